"""Base models every slice builds on: a model builds its validator on first use; an input refuses
unknown fields; a patch refuses ``null`` where a record needs a value.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
    field_validator,
)


class Model(BaseModel):
    """Every model builds its validator on first use, not at import: a cold start pays only
    for the models its request touches."""

    model_config = ConfigDict(defer_build=True)


class Input(Model):
    """A request body from the recruiter or integration API: unknown fields are refused. Each
    field's type trims what should be trimmed (``crm.platform.fields``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def _refuse_nulls(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """JSON Schema of a ``Patch``: a field that may not be null says so (no ``null`` branch)."""
    for name in getattr(model, "not_null", ()):
        prop = schema.get("properties", {}).get(name)
        if not prop or "anyOf" not in prop:
            continue
        branches = [b for b in prop["anyOf"] if b != {"type": "null"}]
        prop.pop("default", None)
        if len(branches) == 1:
            prop.pop("anyOf")
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches


class Patch(Input):
    """A partial update: a field left out keeps its value, ``null`` clears a field that may be
    empty, and a field that may not be empty (``not_null``) refuses ``null`` with a 422 naming it,
    so no update can leave an item its own model cannot read."""

    model_config = ConfigDict(extra="forbid", defer_build=True, json_schema_extra=_refuse_nulls)
    not_null: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (``version`` aside)."""
        return self.model_dump(exclude_unset=True, exclude={"version"})
