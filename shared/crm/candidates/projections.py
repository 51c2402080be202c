"""Keeping candidates' list projections in step with their profiles: what the stream function
does with each profile change, and what ``crm projections rebuild`` does after lost stream
records.

The projection items themselves (how they are keyed, the list query over them, the conditioned
writes) are the repository's: ``crm.candidates.repository.projections``. This module decides
what a rebuild came to (:class:`Outcome`): when stream records were lost (the stream's failure
queue in AWS, a local stack killed before its stream was delivered), :meth:`CandidateProjections.rebuild`
compares what the profile wants with the ``LIST#`` items that are there (found by Query, not
from an old image) and writes only the difference, conditioned on the profile's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from crm.candidates.repository import ProjectionRepository


class Outcome(StrEnum):
    """What bringing one candidate's projections up to date did."""

    FIXED = "fixed"  # some projection items were written or deleted
    UNCHANGED = "unchanged"  # they were already right
    SKIPPED = "skipped"  # the profile moved on (or was erased) meanwhile: the stream writes it


class CandidateProjections:
    """The list projections of one candidate: from a stream image (the stream function's job), or
    from the profile itself (:meth:`rebuild`)."""

    def __init__(self, repository: ProjectionRepository | None = None) -> None:
        self.repository = repository or ProjectionRepository()

    def apply(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
        """Bring the projections in line with ``new`` (``None``: the profile was removed).

        Returns False when the image is stale (the profile has moved on or is gone), in
        which case a later record carries the current state and nothing is written.
        """
        return self.repository.apply_image(old, new)

    def rebuild(self, profile: Mapping[str, Any]) -> Outcome:
        """Bring the candidate's projections up to date with ``profile`` (plain values, as read):
        only what differs is written, conditioned on the profile's version."""
        diff = self.repository.diff_for(profile)
        if not diff:
            return Outcome.UNCHANGED
        return Outcome.FIXED if self.repository.write_diff(profile, diff) else Outcome.SKIPPED

    def remove_orphans(self, candidate_id: str) -> int:
        """Delete the candidate's ``LIST#`` items if it has no profile; how many were deleted."""
        return self.repository.remove_orphans(candidate_id)
