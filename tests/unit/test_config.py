"""Configuration is read once, from the environment, and a missing required variable is named."""

from __future__ import annotations

import pytest

from crm.platform.config import MissingConfiguration, get_settings, reset_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> object:
    reset_settings()
    yield
    reset_settings()


@pytest.mark.parametrize("name", ["TABLE_NAME", "MAIL_QUEUE_URL", "SIGNING_SECRET_ARN", "USER_POOL_ID"])
def test_a_missing_required_variable_fails_naming_it(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(MissingConfiguration, match=name):
        get_settings()


def test_an_empty_required_variable_is_missing_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "")
    with pytest.raises(MissingConfiguration, match="TABLE_NAME"):
        get_settings()


def test_the_local_stack_switch_is_off_unless_crm_dev_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_LOCAL_STACK", raising=False)
    assert get_settings().local_stack is False
    reset_settings()
    monkeypatch.setenv("CRM_LOCAL_STACK", "1")
    assert get_settings().local_stack is True


def test_the_employer_is_its_own_setting_else_the_senders_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_FROM", '"Acme Careers" <jobs@acme.example>')
    monkeypatch.delenv("EMPLOYER_NAME", raising=False)
    reset_settings()
    assert get_settings().employer == "Acme Careers"
    monkeypatch.setenv("EMPLOYER_NAME", " Acme Corporation ")
    reset_settings()
    assert get_settings().employer == "Acme Corporation"
    reset_settings()
