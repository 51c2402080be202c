"""ResumeStore: resumes in the private S3 bucket under ``resumes/<candidate_id>/``.

The server decides the type from the file's bytes, not from what the client claims.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from crm.platform.config import get_settings
from crm.platform.errors import ValidationFailed
from crm.platform.forms import Upload
from crm.platform.ids import new_id
from crm.platform.objects import ObjectStore

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
    """Resumes under ``resumes/<candidate_id>/`` in the private bucket (``objects``: the bucket's
    store; the stack's resume bucket by default)."""

    def __init__(self, objects: ObjectStore | None = None) -> None:
        self.objects = objects or ObjectStore(get_settings().resume_bucket)

    def put(self, candidate_id: str, upload: Upload, kind: str) -> str:
        key = f"{self.prefix(candidate_id)}{new_id()}.{kind}"
        self.objects.put(key, upload.data, content_type=CONTENT_TYPES[kind], filename=f"resume.{kind}")
        return key

    def read(self, key: str) -> bytes | None:
        """A resume's bytes (at most the size a form may send); None when it is gone."""
        return self.objects.read(key, max_bytes=get_settings().max_resume_bytes)

    def download_url(self, key: str, *, expires_in: int = 300) -> str:
        return self.objects.download_url(key, expires_in=expires_in)

    def delete(self, key: str) -> int:
        """Delete every version of one resume."""
        return self.objects.delete_all_versions(key)

    def delete_all(self, candidate_id: str, *, also: Iterable[str] = ()) -> int:
        """Delete every version of every object under the candidate's prefix, and of each of
        ``also`` (keys the candidate's applications name) that lies elsewhere: a form that lost
        a race stored its resume before it knew whose it was."""
        prefix = self.prefix(candidate_id)
        deleted = self.objects.delete_all_versions(prefix)
        for key in sorted(set(also)):
            if not key.startswith(prefix):
                deleted += self.delete(key)
        return deleted

    @staticmethod
    def prefix(candidate_id: str) -> str:
        return f"resumes/{candidate_id}/"
