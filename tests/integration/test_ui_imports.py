"""The recruiters' import pages: announce an import, the upload form carries the presigned POST (and
the page lets its script post there), the mapping step preselects the guesses, start, the progress
JSON, the report with the failed rows' CSV; a bad source is a 422 page naming it."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import Env
from tests.integration.test_imports import drain, upload
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in


@pytest.fixture
def session(env: Env) -> str:
    return f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"


def test_upload_map_start_and_report(env: Env, session: str) -> None:
    listing = get(env, "/ui/imports", session)
    assert listing.status_code == 200 and "Import a CSV file" in listing.body.decode()
    assert 'href="/ui/imports"' in get(env, "/ui/candidates", session).body.decode()
    created = post_form(env, "/ui/imports", {"csrf": csrf_of(listing.body)}, session)
    assert created.status_code == 303
    page_url = header(created, "location")
    import_id = page_url.rsplit("/", 1)[-1]
    step1 = get(env, page_url, session)
    body = step1.body.decode()
    assert 'id="import-upload"' in body and "imports.js" in body
    url = re.search(r'data-url="([^"]+)"', body)
    assert url and url.group(1).startswith("https://")
    assert "s3" in header(step1, "content-security-policy").split("connect-src", 1)[1].split(";")[0]
    from crm.imports.service import ImportService

    form, _ = ImportService().upload_forms(import_id)
    upload(form.model_dump(), b"Email,First name,Last name\nada@example.com,Ada,Lovelace\nbroken,B,R\n")
    step2 = get(env, page_url, session).body.decode()
    assert '<option value="email" selected>' in step2 and '<option value="last_name" selected>' in step2
    csrf = csrf_of(step2.encode())
    fields = {"csrf": csrf, "col-0": "email", "col-1": "first_name", "col-2": "last_name"}
    bad = post_form(env, f"/ui/imports/{import_id}/start", {**fields, "source": "no spaces!"}, session)
    assert bad.status_code == 422 and "Source:" in bad.body.decode()
    started = post_form(env, f"/ui/imports/{import_id}/start", {**fields, "tags": "ui-import"}, session)
    assert started.status_code == 303
    assert 'id="import-progress"' in get(env, page_url, session).body.decode()
    drain(env)
    status = get(env, f"/ui/imports/{import_id}/status", session)
    assert status.json_body["status"] == "done" and status.json_body["counts"]["created"] == 1
    report = get(env, page_url, session).body.decode()
    assert 'id="count-created">1<' in report and 'id="count-failed">1<' in report
    rows = get(env, f"/ui/imports/{import_id}/failed-rows", session)
    assert rows.status_code == 200 and "broken" in rows.body.decode() and "reason" in rows.body.decode()
