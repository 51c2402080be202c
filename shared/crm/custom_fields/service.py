"""Custom fields: admins define them; candidates (and applications) carry values for them, checked
as built-in fields are.

What other slices use (the candidates slice, import and export):

- ``CustomFields().definitions(entity)``: the entity's active fields, by key order;
- ``CustomFields().validate_values(entity, values, form=False)``: the values checked and normalised
  (a 422 ``ValidationFailed`` naming ``custom_fields.<key>`` otherwise; ``form=True`` for text such as a
  CSV cell or a form field: numbers parsed, choices split at ``;``, an empty text clears);
- ``CustomFields().prepare(entity, current, changes, creating=...)``: what a create or a patch stores
  (required fields enforced, each field used marked ``in_use`` so its type stays fixed);
- ``CustomFields().visible(entity, values, private=...)``: the values a reader sees (deleted fields
  hidden, private ones too unless ``private``);
- ``CustomFields().filter_terms(entity, {key: text})``: the projection terms of ``cf.<key>`` filters;
- ``flatten_for_csv(values)``: ``{"cf.<key>": text}`` for a CSV row.

Definitions are read once per invocation (the API clears the cache at the start of each; elsewhere
a read is at most :data:`CACHE_SECONDS` old), and every change made here clears it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from crm.custom_fields.models import (
    MAX_FIELDS,
    CustomField,
    CustomFieldCreate,
    CustomFieldPatch,
    Entity,
    check_values,
    checked_definition,
    csv_text,
    index_terms,
    is_key,
    merged_values,
    value_term,
)
from crm.custom_fields.repository import CustomFieldRepository
from crm.platform import clock
from crm.platform.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from crm.platform.ids import iso

#: The longest a worker (not the API, which reads afresh each invocation) uses definitions it read.
CACHE_SECONDS = 10.0


class _Cache:
    """The definitions read in this invocation (one per process; cleared by :func:`clear_cache`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fields: list[CustomField] | None = None
        self.read_at = 0.0

    def get(self, repository: CustomFieldRepository) -> list[CustomField]:
        with self.lock:
            if self.fields is None or time.monotonic() - self.read_at > CACHE_SECONDS:
                self.fields = sorted(repository.all(), key=lambda f: (f.created_at, f.key))
                self.read_at = time.monotonic()
            return list(self.fields)

    def clear(self) -> None:
        with self.lock:
            self.fields = None


_CACHE = _Cache()


def clear_cache() -> None:
    """Read the definitions afresh next time (the API calls it at the start of each invocation)."""
    _CACHE.clear()


def flatten_for_csv(values: Mapping[str, Any] | None) -> dict[str, str]:
    """``{"cf.<key>": text}``: each value as a CSV cell's text (several choices joined by ``"; "``).
    Pass the cells through ``crm.platform.spreadsheet.safe_cell`` as every cell is."""
    return {f"cf.{key}": csv_text(value) for key, value in sorted((values or {}).items())}


class CustomFields:
    def __init__(self, repository: CustomFieldRepository | None = None) -> None:
        self.repository = repository or CustomFieldRepository()

    # ------------------------------------------------------------------ definitions

    def all(self, *, include_deleted: bool = False) -> list[CustomField]:
        fields = _CACHE.get(self.repository)
        return fields if include_deleted else [f for f in fields if f.active]

    def definitions(self, entity: Entity | str) -> list[CustomField]:
        """The entity's active fields, oldest first."""
        return [f for f in self.all() if f.entity == entity]

    def by_key(self, entity: Entity | str) -> dict[str, CustomField]:
        return {f.key: f for f in self.definitions(entity)}

    def get(self, key: str) -> CustomField:
        field = self.repository.get(key) if is_key(key) else None
        if field is None or not field.active:
            raise NotFound(f"No custom field with key {key}.")
        return field

    def create(self, data: CustomFieldCreate) -> CustomField:
        if len(self.all(include_deleted=True)) >= MAX_FIELDS:
            raise Conflict(f"There are {MAX_FIELDS} custom fields already (deleted ones count too).")
        now = iso(clock.now())
        field = CustomField(
            key=data.key,
            label=data.label,
            entity=data.entity,
            type=data.type,
            options=data.options or [],
            private=data.private,
            required=data.required,
            filterable=data.filterable,
            version=1,
            created_at=now,
            updated_at=now,
        )
        try:
            return self.repository.insert(field)
        finally:
            clear_cache()

    def update(self, key: str, patch: CustomFieldPatch) -> tuple[CustomField, list[str]]:
        """The field after ``patch`` and the names of what changed. A stale ``version`` is a 409; a
        type change of a field whose values are stored is a 409 naming ``type``."""
        current = self.get(key)
        if patch.version != current.version:
            raise VersionConflict(
                "Someone else changed this field; reload and try again.",
                current=current.model_dump(mode="json"),
            )
        changes = {k: v for k, v in patch.changes().items() if getattr(current, k) != v}
        if "options" in changes and changes["options"] is None:
            changes["options"] = []
        if "type" in changes and current.in_use:
            raise Conflict("Values of this field are stored: its type cannot change.", field="type")
        if not changes:
            return current, []
        wanted = current.model_copy(
            update={**changes, "version": current.version + 1, "updated_at": iso(clock.now())}
        )
        if "type" in changes and wanted.type not in ("choice", "choices") and "options" not in changes:
            wanted.options = []
        try:
            checked_definition(wanted)
        except ValueError as exc:
            raise ValidationFailed(
                "The field's options do not fit its type.", errors=[{"field": "options", "message": str(exc)}]
            ) from exc
        try:
            stored = self.repository.replace(
                wanted, seen_version=current.version, type_changes="type" in changes
            )
        finally:
            clear_cache()
        return stored, sorted(changes)

    def delete(self, key: str) -> CustomField:
        """Hide the field: values stay stored (and exported by nothing), its key is not reused."""
        current = self.get(key)
        gone = current.model_copy(
            update={"deleted_at": iso(clock.now()), "version": current.version + 1, "filterable": False}
        )
        try:
            return self.repository.replace(gone, seen_version=current.version, type_changes=False)
        finally:
            clear_cache()

    # ------------------------------------------------------------------ values

    def validate_values(
        self, entity: Entity | str, values: Mapping[str, Any], *, form: bool = False
    ) -> dict[str, Any]:
        """``values`` checked and normalised (``None``: clear it); 422 naming each wrong one."""
        if not values:
            return {}
        checked, errors = check_values(self.by_key(entity), values, form=form)
        if errors:
            raise ValidationFailed("Some custom fields are invalid.", errors=errors)
        return checked

    def prepare(
        self,
        entity: Entity | str,
        current: Mapping[str, Any] | None,
        changes: Mapping[str, Any] | None,
        *,
        creating: bool,
        form: bool = False,
    ) -> dict[str, Any]:
        """The values a create (``creating``) or a change stores: ``changes`` checked, merged over
        ``current``, required fields enforced; each field given a value is marked in use first, so
        its type cannot change under it (a definition changed meanwhile is a 409)."""
        definitions = self.by_key(entity)
        checked, errors = check_values(definitions, changes or {}, form=form)
        merged, missing = merged_values(definitions, current or {}, checked, creating=creating)
        errors += [e for e in missing if e not in errors]
        if errors:
            raise ValidationFailed("Some custom fields are invalid.", errors=errors)
        for key, value in checked.items():
            field = definitions[key]
            if value is not None and not field.in_use:
                if not self.repository.mark_used(key, field.type):
                    clear_cache()
                    raise Conflict(
                        "A custom field changed meanwhile; reload and try again.",
                        field=f"custom_fields.{key}",
                    )
                clear_cache()
        return merged

    def visible(
        self, entity: Entity | str, values: Mapping[str, Any] | None, *, private: bool
    ) -> dict[str, Any]:
        """The values a reader sees: of active fields only, private ones only when ``private``."""
        definitions = self.by_key(entity)
        return {
            key: value
            for key, value in (values or {}).items()
            if key in definitions and (private or not definitions[key].private)
        }

    def public_detail(self, entity: Entity | str, detail: dict[str, Any]) -> dict[str, Any]:
        """A timeline entry's detail without private custom-field values (the person's own export):
        an ``updated`` entry's ``custom_fields`` change keeps the values of public fields only."""
        change = (detail.get("changes") or {}).get("custom_fields")
        if not isinstance(change, dict):
            return detail
        kept = {}
        for side in ("from", "to"):
            values = change.get(side)
            kept[side] = self.visible(entity, values if isinstance(values, dict) else {}, private=False)
        return {**detail, "changes": {**detail["changes"], "custom_fields": kept}}

    def filter_terms(self, entity: Entity | str, given: Mapping[str, str]) -> list[str]:
        """The projection terms (``<key>#<term>``) of ``cf.<key>=<text>`` filters; a key that is not
        a filterable field, or a value its field could not hold, is a 422 naming ``cf.<key>``."""
        definitions = self.by_key(entity)
        errors: list[dict[str, str]] = []
        terms: list[str] = []
        for key, text in given.items():
            field = definitions.get(key)
            name = f"cf.{key[:60]}"
            if field is None or not field.filterable:
                errors.append({"field": name, "message": "there is no filterable custom field of this key"})
                continue
            if field.type in ("choice", "choices"):  # an option in any case
                text = next((o for o in field.options if value_term(o) == value_term(text)), text)
            one: dict[str, Any] = {key: [text] if field.type == "choices" else text}
            checked, wrong = check_values({key: field}, one, form=True, prefix="cf")
            if wrong or checked.get(key) is None:
                message = wrong[0]["message"] if wrong else "give a value"
                errors.append({"field": name, "message": message})
                continue
            terms += index_terms(checked)
        if errors:
            raise ValidationFailed("These filters cannot be read.", errors=errors)
        return terms
