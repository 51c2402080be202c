"""The admin's audit-log page: entries with who and what, filters by person, actor, action and day,
the CSV download (itself audited), a 403 page for a recruiter, a 422 page naming a bad date."""

from __future__ import annotations

import csv
import io

from tests.integration.conftest import Env
from tests.integration.test_audit import create_candidate
from tests.integration.test_ui import get
from tests.integration.test_ui_admin import admin_session


def test_the_page_lists_what_happened_and_filters_it(env: Env) -> None:
    cid = create_candidate(env, "ada@example.com")
    other = create_candidate(env, "bob@example.com")
    for person in (cid, other):
        assert (
            env.client.http.get(f"/v1/candidates/{person}", headers=env.auth("recruiter")).status_code == 200
        )
    cookie = admin_session(env)
    body = get(env, "/ui/admin/audit", cookie).body.decode()
    assert "Audit log" in body and body.count("Opened a profile") >= 2
    assert "recruiter@example.com" in body and "Ada Lovelace" in body
    only = get(env, f"/ui/admin/audit?person={cid}", cookie).body.decode()
    assert f"candidate:{cid}" in only and f"candidate:{other}" not in only
    none = get(env, "/ui/admin/audit?to=2001-01-01", cookie).body.decode()
    assert "Nothing recorded matches" in none
    export = get(env, f"/ui/admin/audit/export?person={cid}&action=candidate.read", cookie)
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.body.decode())))
    assert [(r["action"], r["person_id"]) for r in rows] == [("candidate.read", cid)]
    after = get(env, "/ui/admin/audit?action=audit.exported", cookie).body.decode()
    assert "Downloaded the audit log" in after


def test_a_bad_day_is_a_422_page_naming_it_and_a_recruiter_gets_a_403(env: Env) -> None:
    cookie = admin_session(env)
    bad = get(env, "/ui/admin/audit?from=2026-13-45", cookie)
    assert bad.status_code == 422 and "From:" in bad.body.decode()
    backwards = get(env, "/ui/admin/audit?from=2026-02-01&to=2026-01-01", cookie)
    assert backwards.status_code == 422 and "To:" in backwards.body.decode()
    from tests.integration.test_ui import cookie_value, header, sign_in

    recruiter = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    assert get(env, "/ui/admin/audit", recruiter).status_code == 403
    assert get(env, "/ui/admin/audit/export", recruiter).status_code == 403
