"""S3 objects in one of the stack's buckets: write one, read one, copy or delete one, link to one
for a few minutes, delete every version under a prefix."""

from __future__ import annotations

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
