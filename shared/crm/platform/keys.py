"""Key parts that more than one slice's repository writes.

Every item that holds a person's data lives in that person's partition, ``CAND#<candidate id>``:
the candidate's own items (profile, timeline, notes, applications, list projections) and other
slices' items about them (sequence enrolments, reminders, job-alert subscriptions). One Query of
the partition then finds everything an export shows or an erasure deletes. Each repository builds
its own sort keys; the partition is built here, so its layout is written down once.
"""

from __future__ import annotations


def person_partition(candidate_id: str) -> str:
    """The partition key of every item that holds the data of the person ``candidate_id``."""
    return f"CAND#{candidate_id}"


#: The due-work index (gsi2): everything waiting for a time (a sequence's next step, a reminder)
#: sits in one partition sorted by when it is due, so the every-minute job reads only what is due.
DUE_PARTITION = "DUE"


def due_sort_key(due_at: str, kind: str, *parts: str) -> str:
    """The due-work index's sort key: the due time first, then what is due (``kind`` and its ids)."""
    return "#".join([due_at, kind, *parts])
