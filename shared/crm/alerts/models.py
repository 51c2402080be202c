"""Job alerts: the career site's subscription form. Every input is validated by one of these before it
reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    model_validator,
)

from crm.candidates.models import PublicSubmission, _honeypot_schema
from crm.platform.fields import (
    ShortText,
)

#: What a job alert matches on: some tags, a location, or both.
_SOMETHING_TO_MATCH = [
    {
        "required": ["tags"],
        "properties": {
            "tags": {"anyOf": [{"type": "array", "minItems": 1}, {"type": "string", "pattern": r"[^\s,]"}]}
        },
    },
    {"required": ["location"], "properties": {"location": {"type": "string", "pattern": r"\S"}}},
]


def _job_alert_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    schema["allOf"] = [{"anyOf": _SOMETHING_TO_MATCH}]
    _honeypot_schema(schema, model)


class JobAlertSubmission(PublicSubmission):
    """The career site's job-alert form: the person, and what jobs they want to hear about
    (tags, a location, or both)."""

    model_config = ConfigDict(json_schema_extra=_job_alert_schema)

    location: ShortText | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> JobAlertSubmission:
        if not self.tags and not self.location:
            raise ValueError("give tags or a location to match jobs on")
        return self
