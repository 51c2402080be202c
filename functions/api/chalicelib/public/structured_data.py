"""schema.org structured data for the career site's pages (JSON-LD), so that search engines'
job and event listings (Google for Jobs) can index them.

``job_posting`` gives a ``JobPosting`` with the properties Google requires (title, description,
datePosted, hiringOrganization, jobLocation; or, for a remote job, jobLocationType TELECOMMUTE)
and the recommended ones the product knows (identifier, url, directApply). Pages write it with
Jinja2's ``tojson`` filter, which escapes ``<``, ``>``, ``&`` and quotes, so no text a recruiter
typed can end the ``<script>`` element.
"""

from __future__ import annotations

from typing import Any

from crm.jobs.models import PublicJob
from crm.platform.config import get_settings

CONTEXT = "https://schema.org"
#: Words in a job's location that mean the job is done from anywhere.
REMOTE_WORDS = ("remote", "anywhere", "work from home")


def is_remote(location: str | None) -> bool:
    return bool(location) and any(word in location.lower() for word in REMOTE_WORDS)  # type: ignore[union-attr]


def job_posting(job: PublicJob) -> dict[str, Any]:
    settings = get_settings()
    employer = settings.employer or "Careers"
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description or job.title,
        "datePosted": job.posted_at[:10],
        "hiringOrganization": {"@type": "Organization", "name": employer},
        "identifier": {"@type": "PropertyValue", "name": employer, "value": job.id},
        "directApply": True,
    }
    base = settings.public_base_url.rstrip("/")
    if base:
        data["url"] = f"{base}/careers/jobs/{job.id}"
    if is_remote(job.location):
        data["jobLocationType"] = "TELECOMMUTE"
    elif job.location:
        data["jobLocation"] = {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressLocality": job.location},
        }
    if job.department:
        data["industry"] = job.department
    if job.tags:
        data["skills"] = ", ".join(job.tags)
    return data
