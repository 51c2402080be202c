"""Keeping the free-text index in step (the stream function's part of search).

Every change to what a person's words come from ends in :meth:`FreeTextIndex.refresh`, which
recomputes the person's index entries from the profile, the notes and the resume texts and
writes only the difference, so a replayed or duplicated record changes nothing:

* a profile created, erased, or changed in a field search reads (name, email, tags, location);
* a note added;
* an application with a resume it has not read yet, or a resume sent with a sign-up or uploaded
  by a recruiter: the text is extracted (``resume_text``) and kept beside the person, and that
  item's own record refreshes the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from crm.candidates.repository import WordIndexRepository
from crm.candidates.repository.words import resume_text_slot, word_source
from crm.candidates.resume_text import extract_text, kind_of
from crm.candidates.resumes import ResumeStore

#: The profile's fields that its words come from.
WORD_FIELDS = ("first_name", "last_name", "email", "tags", "location", "created_at")

logger = logging.getLogger(__name__)


class FreeTextIndex:
    def __init__(
        self,
        repository: WordIndexRepository | None = None,
        read_resume: Callable[[str], bytes | None] | None = None,
    ) -> None:
        self.repository = repository or WordIndexRepository()
        self._read_resume = read_resume

    def read_resume(self, key: str) -> bytes | None:
        if self._read_resume is None:
            self._read_resume = ResumeStore().read
        return self._read_resume(key)

    def on_change(
        self, keys: Mapping[str, Any], old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> None:
        source = word_source(keys)
        if source is None:
            return
        candidate_id, kind = source
        if kind == "profile":
            if old is None or new is None or any(old.get(f) != new.get(f) for f in WORD_FIELDS):
                self.refresh(candidate_id)
        elif kind == "text":
            self.refresh(candidate_id)
        elif kind == "resume":
            # An application's resume is read through its application (below), once.
            if (
                new is not None
                and old is None
                and new.get("source") != "application"
                and new.get("resume_key")
            ):
                slot = resume_text_slot(str(new["id"]))
                self.read_resume_text(candidate_id, slot, str(new["resume_key"]))
        elif new is not None:
            resume_key = new.get("resume_key")
            if resume_key and resume_key != (old or {}).get("resume_key"):
                self.read_resume_text(candidate_id, str(new["job_id"]), str(resume_key))

    def refresh(self, candidate_id: str) -> int:
        """Bring the person's index entries in line; how many items were written or deleted."""
        return self.repository.refresh(candidate_id)

    def remove_orphans(self, candidate_id: str) -> int:
        """Delete what the index keeps of a person who has no profile; how many items."""
        return self.repository.remove_orphans(candidate_id)

    def read_resume_text(self, candidate_id: str, job_id: str, resume_key: str) -> bool:
        """Extract and keep one application's resume text, unless it is kept already (a
        replayed record). False when nothing was written."""
        if self.repository.resume_text_key(candidate_id, job_id) == resume_key:
            return False
        data = self.read_resume(resume_key)
        if data is None:
            logger.info("resume not read for search: it is gone (erased meanwhile)")
            return False
        text = extract_text(data, kind_of(resume_key))
        return self.repository.put_resume_text(
            candidate_id, job_id, resume_key=resume_key, text=text.text, outcome=text.outcome
        )
