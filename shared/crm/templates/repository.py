"""TemplateRepository. Items: TEMPLATE#<id>/TEMPLATE, in gsi1 under TEMPLATES sorted by name."""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import NotFound, VersionConflict
from crm.platform.fields import search_term
from crm.platform.ids import new_id, utcnow
from crm.templates.models import EmailTemplate, TemplateCreate, TemplateUpdate


def _item(template: EmailTemplate) -> dict[str, Any]:
    item = template.model_dump()
    item.update(
        pk=f"TEMPLATE#{template.id}",
        sk="TEMPLATE",
        type="template",
        gsi1pk="TEMPLATES",
        gsi1sk=f"{search_term(template.name)}#{template.id}",
    )
    return table.to_item(item)


class TemplateRepository:
    def create(self, data: TemplateCreate) -> EmailTemplate:
        now = utcnow()
        template = EmailTemplate(id=new_id(), version=1, created_at=now, updated_at=now, **data.model_dump())
        table.put(_item(template), condition="attribute_not_exists(pk)")
        return template

    def get(self, template_id: str) -> EmailTemplate:
        item = table.get_item(f"TEMPLATE#{template_id}", "TEMPLATE")
        if not item:
            raise NotFound(
                f"No template with id {template_id}.",
                errors=[{"field": "template_id", "message": "no such template"}],
            )
        return EmailTemplate.model_validate(table.from_item(item))

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[EmailTemplate], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "TEMPLATES"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
        )
        return [EmailTemplate.model_validate(table.from_item(i)) for i in items], next_cursor

    def update(self, template_id: str, data: TemplateUpdate) -> EmailTemplate:
        current = self.get(template_id)
        if data.version != current.version:
            raise VersionConflict(
                "Someone else changed this template; reload and try again.",
                current=current.model_dump(mode="json"),
            )
        changes = data.model_dump(exclude_unset=True, exclude={"version"})
        updated = EmailTemplate.model_validate(
            {**current.model_dump(), **changes, "version": current.version + 1, "updated_at": utcnow()}
        )
        try:
            table.put(
                _item(updated),
                condition="version = :seen",
                ExpressionAttributeValues={":seen": {"N": str(current.version)}},
            )
        except table.ConditionFailed as exc:
            raise VersionConflict(
                "Someone else changed this template; reload and try again.",
                current=self.get(template_id).model_dump(mode="json"),
            ) from exc
        return updated
