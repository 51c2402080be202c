"""HiringSettingsRepository: the settings of hiring that belong to no job. Items:
``HIRING#SETTINGS/REJECTION_REASONS`` (the admin's list of rejection reasons)."""

from __future__ import annotations

from crm.platform import table

SETTINGS_PK = "HIRING#SETTINGS"
REASONS_SK = "REJECTION_REASONS"


class HiringSettingsRepository:
    def rejection_reasons(self) -> list[str] | None:
        item = table.get_item(SETTINGS_PK, REASONS_SK)
        return list(table.from_item(item)["reasons"]) if item else None

    def save_rejection_reasons(self, reasons: list[str], *, at: str, by: str) -> None:
        table.put(
            table.to_item(
                {
                    "pk": SETTINGS_PK,
                    "sk": REASONS_SK,
                    "type": "rejection_reasons",
                    "reasons": reasons,
                    "updated_at": at,
                    "updated_by": by,
                }
            )
        )
