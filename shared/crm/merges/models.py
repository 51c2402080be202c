"""A merge of two people into one, as the API reads and returns it: the request (who survives,
the versions read, a choice per field), the preview, and the merge record that can be undone."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crm.platform.fields import Id, Version
from crm.platform.models import Input, Model

#: The profile's fields a recruiter chooses between; everything else is combined (tags, sources,
#: pools, other emails: the union; consents: the stricter per topic).
CHOSEN_FIELDS: tuple[str, ...] = ("email", "first_name", "last_name", "phone", "location", "linkedin_url")
ChosenField = Literal["email", "first_name", "last_name", "phone", "location", "linkedin_url"]
Side = Literal["survivor", "merged"]

#: How long a merge can be undone (its snapshot object lives a day longer).
UNDO_DAYS = 30

MergeState = Literal["merging", "merged", "undone"]


class MergePair(Input):
    survivor_id: Id = Field(description="The person who stays.")
    merged_id: Id = Field(description="The person merged into the survivor (removed).")


class MergeRequest(MergePair):
    survivor_version: Version = Field(description="The survivor's version as previewed.")
    merged_version: Version = Field(description="The merged person's version as previewed.")
    choices: dict[ChosenField, Side] = Field(
        default_factory=dict,
        description="Whose value each field keeps; a field left out keeps the survivor's (the "
        "merged person's when the survivor has none).",
    )


class FieldValues(Model):
    field: str
    survivor: Any = None
    merged: Any = None
    default: Side = Field(description="What is kept unless chosen otherwise.")


class Moves(Model):
    """What goes to the survivor, counted by kind of item (``application``, ``note``, ``activity``...)."""

    moved: dict[str, int] = Field(default_factory=dict)
    dropped: dict[str, int] = Field(
        default_factory=dict,
        description="Items the survivor already has one of (the same job, sequence, event): the "
        "survivor's stays; the merged person's is kept in the merge record for an undo.",
    )


class MergePreview(Model):
    survivor: dict[str, Any]
    merged: dict[str, Any]
    fields: list[FieldValues]
    tags: list[str] = Field(description="The survivor's tags after the merge (the union).")
    pools: dict[str, str]
    consents: dict[str, Any] = Field(description="Per topic, the stricter of the two (a withdrawal wins).")
    other_emails: list[str]
    moves: Moves


class Merge(Model):
    id: str
    survivor_id: str
    merged_id: str
    state: MergeState
    actor: str
    at: str
    undo_until: str = Field(description="Until when the merge can be undone (UTC).")
    survivor_version: int = Field(description="The survivor's version the merge wrote.")
    choices: dict[str, Side] = Field(default_factory=dict)
    moves: Moves = Field(default_factory=Moves)
    undone_at: str | None = None
    undone_by: str | None = None
    can_undo: bool = False
