import pytest
from pydantic import ValidationError

from crm.candidates.models import CandidatePatch, PublicSubmission
from crm.platform.fields import normalise_email, search_term


def test_public_submission_normalises_email_tags_and_form_booleans():
    s = PublicSubmission.model_validate(
        {
            "email": "  Ann.Lee@Example.COM ",
            "first_name": " Ann ",
            "last_name": "Lee",
            "tags": "Python, aws ,python",
            "marketing_consent": "on",
            "phone": "",
            "unknown": "ignored",
        }
    )
    assert s.email == "ann.lee@example.com"
    assert s.first_name == "Ann"
    assert s.tags == ["python", "aws"]
    assert s.marketing_consent is True
    assert s.phone is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "not-an-email"),
        ("first_name", ""),
        ("last_name", "x" * 101),
        ("linkedin_url", "javascript:alert(1)"),
        ("phone", "call me maybe"),
        ("tags", ["ok", "<script>"]),
        ("first_name", "Ann\x00"),
    ],
)
def test_public_submission_rejects_bad_fields(field, value):
    base = {"email": "a@example.com", "first_name": "A", "last_name": "B"}
    with pytest.raises(ValidationError) as info:
        PublicSubmission.model_validate({**base, field: value})
    assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_required_fields_are_named():
    with pytest.raises(ValidationError) as info:
        PublicSubmission.model_validate({})
    assert {e["loc"][0] for e in info.value.errors()} == {"email", "first_name", "last_name"}


def test_patch_requires_version_and_forbids_unknown_fields():
    with pytest.raises(ValidationError):
        CandidatePatch.model_validate({"first_name": "X"})
    with pytest.raises(ValidationError):
        CandidatePatch.model_validate({"version": 1, "role": "admin"})
    assert CandidatePatch.model_validate({"version": 2, "first_name": "X"}).changes() == {"first_name": "X"}


def test_identity_and_search_normalisation():
    assert normalise_email("  MiXed@Case.Org ") == "mixed@case.org"
    assert search_term("  Zoë Ångström ") == "zoe angstrom"
