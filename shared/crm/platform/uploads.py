"""Files a browser or a tool uploads straight to S3 (a presigned POST), read back as a stream.

``presigned_post`` lets a client send one object of at most ``max_bytes`` to one key, without the
API carrying the bytes. ``ObjectStream`` reads an object from a byte offset onwards, block by block
(never the whole object in memory), so a worker can resume where it stopped. ``RangedFile`` is a
seekable, read-only file over an object (ranged GETs) for formats that need to seek, such as ZIP.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws

#: How much one read of a stream asks S3 for.
BLOCK_BYTES = 64 * 1024


def presigned_post(
    bucket: str, key: str, *, max_bytes: int, expires_in: int = 900, content_type: str | None = None
) -> dict[str, Any]:
    """``{"url", "fields"}``: post the fields and then the file (part ``file``) as multipart/form-data.
    S3 enforces the size range (moto does not: readers check the size again)."""
    conditions: list[Any] = [["content-length-range", 1, max_bytes]]
    fields: dict[str, str] = {}
    if content_type:
        fields["Content-Type"] = content_type
        conditions.append({"Content-Type": content_type})
    answer: dict[str, Any] = aws.client("s3").generate_presigned_post(
        Bucket=bucket, Key=key, Fields=fields or None, Conditions=conditions, ExpiresIn=expires_in
    )
    return {"url": answer["url"], "fields": dict(answer["fields"])}


def object_size(bucket: str, key: str) -> int | None:
    """The object's size in bytes; None when there is no such object (not uploaded yet)."""
    try:
        head = aws.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return int(head["ContentLength"])


def read_range(bucket: str, key: str, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` (inclusive) of the object (fewer at its end)."""
    response = aws.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end}")
    data: bytes = response["Body"].read()
    return data


def stream_blocks(bucket: str, key: str, *, start: int = 0, block: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The object from byte ``start`` to its end, ``block`` bytes at a time (one streamed GET)."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if start:
        params["Range"] = f"bytes={start}-"
    body = aws.client("s3").get_object(**params)["Body"]
    try:
        while True:
            data = body.read(block)
            if not data:
                return
            yield data
    finally:
        body.close()


class RangedFile(io.RawIOBase):
    """A read-only, seekable file over one object: each ``read`` is a ranged GET."""

    def __init__(self, bucket: str, key: str, size: int) -> None:
        self.bucket, self.key, self.size, self.position = bucket, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.size:
            return b""
        end = self.size - 1 if size is None or size < 0 else min(self.size, self.position + size) - 1
        data = read_range(self.bucket, self.key, self.position, end)
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
