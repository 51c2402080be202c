"""Erasure: remove every item and object that holds a person's data."""

from __future__ import annotations

from crm.candidates.repository import CandidateRepository
from crm.candidates.resumes import ResumeStore


def erase_candidate(candidate_id: str, *, actor: str) -> None:
    """Resumes first, then the items, so an interrupted erasure can be repeated to the end:
    while the profile exists the erasure can be found and finished."""
    repository = CandidateRepository()
    repository.get(candidate_id)
    ResumeStore().delete_all(candidate_id)
    repository.erase(candidate_id, actor=actor)
