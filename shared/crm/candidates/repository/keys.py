"""The keys of a person's own items (see docs/data-model.md):

CAND#<id> / PROFILE            the candidate (version for optimistic concurrency)
EMAIL#<normalised> / EMAIL     uniqueness guard -> candidate_id, written in the same transaction
CAND#<id> / ACT#<at>#<n>       timeline activity
CAND#<id> / NOTE#<at>#<id>     recruiter note
CAND#<id> / APP#<job_id>       application (gsi1: JOBAPPS#<job_id>, gsi2: JOBSTAGE#<job_id>#<stage>)
CAND#<id> / RESUME#<at>#<id>   one resume (its S3 key, name, type, size, source), newest last
CAND#<id> / INTERACTION#<at>#<id> a logged call or meeting (sorted by when it happened)
CAND#<id> / LIST#...           list projections (``projections``)
ERASURE#<id> / ERASURE         the record that a person was erased (ids only)
"""

from __future__ import annotations

from crm.platform.fields import normalise_email
from crm.platform.keys import person_partition

PROFILE = "PROFILE"
EMAIL_GUARD = "EMAIL"
LIST_PREFIX = "LIST#"
RESUME_PREFIX = "RESUME#"
INTERACTION_PREFIX = "INTERACTION#"


def candidate_pk(candidate_id: str) -> str:
    return person_partition(candidate_id)


def email_pk(email: str) -> str:
    return f"EMAIL#{normalise_email(email)}"


def application_sk(job_id: str) -> str:
    return f"APP#{job_id}"


def job_stage_pk(job_id: str, stage: str) -> str:
    """Where a job's applications at one stage sit in ``gsi2``, longest there first."""
    return f"JOBSTAGE#{job_id}#{stage}"


def job_applications_pk(job_id: str) -> str:
    """Where a job's applications sit in ``gsi1``, newest first."""
    return f"JOBAPPS#{job_id}"


def erasure_pk(candidate_id: str) -> str:
    return f"ERASURE#{candidate_id}"


def resume_sk(uploaded_at: str, resume_id: str) -> str:
    return f"{RESUME_PREFIX}{uploaded_at}#{resume_id}"


def interaction_sk(happened_at: str, interaction_id: str) -> str:
    return f"{INTERACTION_PREFIX}{happened_at}#{interaction_id}"


def is_derived_item(sk: str) -> bool:
    """merges: whether an item of a person's partition is rebuilt from the others (list
    projections and the free-text index): a merge drops these rather than moving them."""
    return sk.startswith(("LIST#", "WORD#"))
