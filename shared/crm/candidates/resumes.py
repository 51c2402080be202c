"""ResumeStore: resumes in the private S3 bucket under ``resumes/<candidate_id>/``.

The server decides the type from the file's bytes, not from what the client claims.
"""

from __future__ import annotations

import io
import zipfile

from crm.candidates.models import Upload
from crm.platform import aws
from crm.platform.config import get_settings
from crm.platform.errors import ValidationFailed
from crm.platform.ids import new_id

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def sniff_type(data: bytes) -> str | None:
    """pdf, doc or docx from the file's bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return None
    return None


def validate_resume(upload: Upload) -> str:
    """The resume's kind, or a 422 naming the field."""
    limit = get_settings().max_resume_bytes
    if not upload.data:
        raise ValidationFailed(
            "The resume is empty.", errors=[{"field": "resume", "message": "file is empty"}]
        )
    if len(upload.data) > limit:
        raise ValidationFailed(
            "The resume is too large.",
            errors=[{"field": "resume", "message": f"must be at most {limit // (1024 * 1024)} MB"}],
        )
    kind = sniff_type(upload.data)
    if kind is None:
        raise ValidationFailed(
            "The resume must be a PDF, DOC or DOCX file.",
            errors=[{"field": "resume", "message": "must be a PDF, DOC or DOCX file"}],
        )
    return kind


class ResumeStore:
    def put(self, candidate_id: str, upload: Upload, kind: str) -> str:
        key = f"resumes/{candidate_id}/{new_id()}.{kind}"
        aws.client("s3").put_object(
            Bucket=get_settings().resume_bucket,
            Key=key,
            Body=upload.data,
            ContentType=CONTENT_TYPES[kind],
            ContentDisposition=f'attachment; filename="resume.{kind}"',
            ServerSideEncryption="AES256",
        )
        return key

    def download_url(self, key: str, *, expires_in: int = 300) -> str:
        url: str = aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": get_settings().resume_bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def delete_all(self, candidate_id: str) -> int:
        """Delete every version of every object under the candidate's prefix."""
        s3 = aws.client("s3")
        bucket = get_settings().resume_bucket
        deleted = 0
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=f"resumes/{candidate_id}/"):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
                deleted += len(objects)
        return deleted
