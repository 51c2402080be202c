"""S3 objects in one of the stack's buckets: write one (whole, or streamed in parts), read one (whole
or in chunks), copy or delete one, link to one for a few minutes, delete every version under a
prefix."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws


class ObjectStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, data: bytes, *, content_type: str, filename: str) -> None:
        """Store ``data`` (encrypted at rest), downloaded as an attachment named ``filename``."""
        aws.client("s3").put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ContentDisposition=f'attachment; filename="{filename}"',
            ServerSideEncryption="AES256",
        )

    def read(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's bytes (at most ``max_bytes``: a longer object is cut there); None when
        there is no such object (deleted meanwhile)."""
        try:
            response = aws.client("s3").get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        data: bytes = response["Body"].read()
        return data

    def size(self, key: str) -> int | None:
        """The object's size in bytes; None when there is no such object."""
        try:
            head = aws.client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    def copy(self, key: str, to_key: str) -> None:
        """Copy an object within the bucket (server side: its size does not matter here)."""
        aws.client("s3").copy_object(
            Bucket=self.bucket,
            Key=to_key,
            CopySource={"Bucket": self.bucket, "Key": key},
            ServerSideEncryption="AES256",
        )

    def delete(self, key: str) -> None:
        """Delete one object (its current version; nothing happens when it is gone)."""
        aws.client("s3").delete_object(Bucket=self.bucket, Key=key)

    def download_url(self, key: str, *, expires_in: int) -> str:
        url: str = aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def delete_all_versions(self, prefix: str) -> int:
        """Delete every version (and delete marker) of every object under ``prefix``; how many."""
        s3 = aws.client("s3")
        deleted = 0
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects: list[dict[str, Any]] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                deleted += len(objects)
        return deleted

    def chunks(self, key: str, *, size: int = 1024 * 1024) -> Iterator[bytes] | None:
        """The object's bytes ``size`` at a time, never all of it in memory; None when there is
        no such object."""
        try:
            response = aws.client("s3").get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body = response["Body"]
        return iter(lambda: body.read(size), b"")

    def multipart(self, key: str, *, content_type: str, filename: str) -> MultipartWriter:
        """A write-only file that uploads ``key`` in parts as they fill (S3 multipart upload)."""
        return MultipartWriter(self.bucket, key, content_type=content_type, filename=filename)


#: S3's smallest part (but the last); parts are sent when this much is buffered.
PART_BYTES = 8 * 1024 * 1024


class MultipartWriter(io.RawIOBase):
    """A file-like object (``write``, ``tell``; not seekable) that buffers at most one part and
    uploads each part as it fills; ``close`` completes the upload, ``abort`` drops it. A writer
    that fails before ``close`` leaves no object (the bucket's lifecycle removes stray parts)."""

    def __init__(
        self, bucket: str, key: str, *, content_type: str, filename: str, part_bytes: int = PART_BYTES
    ) -> None:
        super().__init__()
        self.bucket = bucket
        self.key = key
        self.part_bytes = part_bytes
        self.buffer = bytearray()
        self.parts: list[dict[str, Any]] = []
        self.size = 0
        self.peak_buffer = 0
        self._s3 = aws.client("s3")
        self.upload_id: str | None = self._s3.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType=content_type,
            ContentDisposition=f'attachment; filename="{filename}"',
            ServerSideEncryption="AES256",
        )["UploadId"]

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.size

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.buffer += view
        self.size += len(view)
        self.peak_buffer = max(self.peak_buffer, len(self.buffer))
        while len(self.buffer) >= self.part_bytes:
            self._send(bytes(self.buffer[: self.part_bytes]))
            del self.buffer[: self.part_bytes]
        return len(view)

    def _send(self, data: bytes) -> None:
        number = len(self.parts) + 1
        answer = self._s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        if self.closed:
            return
        if self.upload_id is not None:
            if self.buffer or not self.parts:
                self._send(bytes(self.buffer))
                self.buffer.clear()
            self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
            self.upload_id = None
        super().close()

    def abort(self) -> None:
        if self.upload_id is not None:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None
        self.buffer.clear()
        super().close()
