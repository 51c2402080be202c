"""Email templates as the rest of the product uses them."""

from __future__ import annotations

from crm.templates.models import EmailTemplate, TemplateCreate, TemplateUpdate
from crm.templates.repository import TemplateRepository


class TemplateService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: TemplateRepository | None = None) -> None:
        self.repository = repository or TemplateRepository()

    def create(self, data: TemplateCreate) -> EmailTemplate:
        return self.repository.create(data)

    def get(self, template_id: str) -> EmailTemplate:
        return self.repository.get(template_id)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[EmailTemplate], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def update(self, template_id: str, data: TemplateUpdate) -> EmailTemplate:
        return self.repository.update(template_id, data)
