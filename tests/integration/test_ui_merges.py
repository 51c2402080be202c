"""The merge in the recruiter UI: the profile's possible duplicates with "Merge...", the merge page
with both people side by side and a choice per field, the survivor's "Undo merge" notice."""

from __future__ import annotations

import re
from urllib.parse import unquote

from tests.integration.conftest import Env
from tests.integration.test_merges import create
from tests.integration.test_ui import csrf_of, get, post_form, session

__all__ = ["session"]  # the fixture, imported for its name


def test_duplicates_merge_page_and_undo(env: Env, session: str) -> None:
    survivor = create(env, "ada@example.com", phone="+44 20 7946 0000")
    merged = create(env, "ada.l@example.org", phone="02079460000", first_name="Augusta")
    env.pump.drain()
    profile = get(env, f"/ui/candidates/{survivor['id']}", session)
    body = profile.body.decode()
    assert "Possible duplicates" in body and "same phone" in body
    link = re.search(r'href="(/ui/merge\?[^"]+)"', body)
    assert link
    shown = get(env, unquote(link.group(1).replace("&amp;", "&")), session)
    assert shown.status_code == 200, shown.body
    page = shown.body.decode()
    assert "Augusta" in page and 'name="choice_first_name" value="merged"' in page
    fields = {
        "csrf": csrf_of(shown.body),
        "survivor_id": survivor["id"],
        "merged_id": merged["id"],
        "survivor_version": "1",
        "merged_version": "1",
        "choice_first_name": "merged",
    }
    done = post_form(env, "/ui/merge", fields, session)
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=merged")
    after = get(env, done.headers["Location"], session).body.decode()
    assert "Undo merge" in after and "Augusta" in after
    again = post_form(env, "/ui/merge", fields, session)  # a second click: the same merge
    assert again.status_code == 303
    undo = re.search(r'action="(/ui/merges/[^"]+/undo)"', after)
    assert undo
    undone = post_form(env, undo.group(1), {"csrf": csrf_of(after.encode())}, session)
    assert undone.status_code == 303 and undone.headers["Location"].endswith("?done=unmerged")
    assert get(env, f"/ui/candidates/{merged['id']}", session).status_code == 200
    refused = post_form(env, undo.group(1), {"csrf": csrf_of(after.encode())}, session)
    assert refused.status_code == 409 and "undone already" in refused.body.decode()
    self_merge = get(env, f"/ui/merge?survivor={survivor['id']}&merged={survivor['id']}", session)
    assert self_merge.status_code == 409
    assert get(env, "/ui/merge?survivor=x&merged=", session).status_code == 404
