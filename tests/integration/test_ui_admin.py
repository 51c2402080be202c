"""The admin pages: users (invite, change group, disable) and API keys (create with the secret shown
once, revoke after confirming); admins only. And a first sign-in with a temporary password, which
chooses its own password on the sign-in page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in

TEMPORARY = "Temporary-pass-1"


def admin_session(env: Env) -> str:
    response = sign_in(env, "admin@example.com")
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


@pytest.fixture
def admin(env: Env) -> str:
    return admin_session(env)


@pytest.fixture
def recruiter(env: Env) -> str:
    response = sign_in(env)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def pool_users(env: Env) -> dict[str, dict[str, Any]]:
    response = env.client.http.get("/v1/users?limit=60", headers=env.auth("admin"))
    return {u["email"]: u for u in response.json_body["items"]}


def invite_form(env: Env, cookie: str, **fields: str) -> Any:
    csrf = csrf_of(get(env, "/ui/admin/users", cookie).body)
    values = {"csrf": csrf, "email": "nia@example.com", "name": "Nia New", "group": "recruiter"}
    values.update({"temporary_password": TEMPORARY, **fields})
    return post_form(env, "/ui/admin/users", values, cookie)


# ------------------------------------------------------------------------------- who may see them


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ui/admin/users"),
        ("POST", "/ui/admin/users"),
        ("POST", "/ui/admin/users/some-user"),
        ("GET", "/ui/admin/api-keys"),
        ("POST", "/ui/admin/api-keys"),
        ("POST", "/ui/admin/api-keys/abc/revoke"),
    ],
)
def test_a_recruiter_gets_a_403_page_and_nothing_changes(
    env: Env, recruiter: str, method: str, path: str
) -> None:
    csrf = csrf_of(get(env, "/ui/", recruiter).body)
    fields = {"csrf": csrf, "email": "x@example.com", "group": "admin", "name": "k", "scope": "read-write"}
    if method == "GET":
        response = get(env, path, recruiter)
    else:
        response = post_form(
            env, path, {**fields, "confirm": "yes", "temporary_password": TEMPORARY}, recruiter
        )
    assert response.status_code == 403
    body = response.body.decode()
    assert "Only admins can manage users and API keys." in body
    assert header(response, "content-type").startswith("text/html")
    assert set(pool_users(env)) == {"admin@example.com", "recruiter@example.com"}
    keys = env.client.http.get("/v1/api-keys", headers=env.auth("admin")).json_body["items"]
    assert keys == []


def test_the_admin_link_is_in_the_nav_for_admins_only(env: Env, admin: str, recruiter: str) -> None:
    assert '<a href="/ui/admin/users">Admin</a>' in get(env, "/ui/", admin).body.decode()
    assert "/ui/admin/users" not in get(env, "/ui/", recruiter).body.decode()


def test_without_a_session_the_pages_send_to_sign_in(env: Env) -> None:
    response = env.client.http.get("/ui/admin/api-keys")
    assert response.status_code == 303
    assert header(response, "location") == "/ui/login?" + urlencode({"next": "/ui/admin/api-keys"})


# ------------------------------------------------------------------------------- users


def test_the_users_page_lists_people_with_group_and_status(env: Env, admin: str) -> None:
    response = get(env, "/ui/admin/users", admin)
    assert response.status_code == 200
    assert header(response, "cache-control") == "no-store"
    body = response.body.decode()
    assert "admin@example.com" in body and "recruiter@example.com" in body
    assert '<span class="badge badge-info">Admin</span>' in body
    assert '<span class="badge">Recruiter</span>' in body
    assert '<span class="badge badge-ok">Active</span>' in body
    assert "(you)" in body and "Another admin can change your account." in body
    recruiter = pool_users(env)["recruiter@example.com"]
    assert f'action="/ui/admin/users/{recruiter["username"]}"' in body
    admin_user = pool_users(env)["admin@example.com"]
    assert f'action="/ui/admin/users/{admin_user["username"]}"' not in body  # no forms for oneself


def test_invite_a_user_with_a_temporary_password(env: Env, admin: str) -> None:
    response = invite_form(env, admin, email=" Nia@Example.com ")
    assert response.status_code == 303
    assert header(response, "location") == "/ui/admin/users?done=invited"
    user = pool_users(env)["nia@example.com"]
    assert user["group"] == "recruiter" and user["name"] == "Nia New"
    assert user["status"] == "FORCE_CHANGE_PASSWORD"
    page = get(env, "/ui/admin/users?done=invited", admin).body.decode()
    assert "The user is invited." in page and "Nia New" in page
    assert '<span class="badge badge-warn">Invited</span>' in page
    assert '<span class="avatar avatar-c' in page and ">NN</span>" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Email:"),
        ({"group": "owner"}, "group", "Choose one of the groups: recruiter, admin, hiring_manager, employee"),
        ({"temporary_password": "short"}, "password", "at least 12 characters"),
        ({"email": "recruiter@example.com"}, "email", "already has an account"),
    ],
)
def test_a_bad_invitation_re_renders_the_form_with_the_message(
    env: Env, admin: str, fields: dict[str, str], field: str, message: str
) -> None:
    response = invite_form(env, admin, **fields)
    assert response.status_code in (409, 422)
    body = response.body.decode()
    assert f'id="e-{field}"' in body and message in body
    assert "Nobody was invited; see the marked fields." in body
    assert TEMPORARY not in body and 'value="short"' not in body  # a password is never echoed
    assert 'value="Nia New"' in body  # the rest is kept
    assert set(pool_users(env)) == {"admin@example.com", "recruiter@example.com"}


def test_change_a_users_group_and_disable_then_enable(env: Env, admin: str) -> None:
    recruiter = pool_users(env)["recruiter@example.com"]
    url = f"/ui/admin/users/{recruiter['username']}"
    csrf = csrf_of(get(env, "/ui/admin/users", admin).body)
    response = post_form(env, url, {"csrf": csrf, "group": "admin"}, admin)
    assert response.status_code == 303 and "done=group" in header(response, "location")
    assert pool_users(env)["recruiter@example.com"]["group"] == "admin"
    assert (
        "it applies from the user&#39;s next sign-in"
        in get(env, "/ui/admin/users?done=group", admin).body.decode()
    )
    response = post_form(env, url, {"csrf": csrf, "enabled": "false"}, admin)
    assert response.status_code == 303 and "done=disabled" in header(response, "location")
    assert pool_users(env)["recruiter@example.com"]["enabled"] is False
    page = get(env, "/ui/admin/users?done=disabled", admin).body.decode()
    assert '<span class="badge badge-bad">Disabled</span>' in page and ">Enable</button>" in page
    assert sign_in(env).status_code == 401
    response = post_form(env, url, {"csrf": csrf, "enabled": "true"}, admin)
    assert response.status_code == 303 and "done=enabled" in header(response, "location")
    assert sign_in(env).status_code == 303


def test_an_admin_cannot_disable_or_demote_themselves_in_the_page(env: Env, admin: str) -> None:
    me = pool_users(env)["admin@example.com"]
    csrf = csrf_of(get(env, "/ui/admin/users", admin).body)
    for fields in ({"enabled": "false"}, {"group": "recruiter"}):
        response = post_form(env, f"/ui/admin/users/{me['username']}", {"csrf": csrf, **fields}, admin)
        assert response.status_code == 409
        assert "ask another admin" in response.body.decode()
    assert pool_users(env)["admin@example.com"] == me


def test_a_change_without_csrf_or_with_bad_values_changes_nothing(env: Env, admin: str) -> None:
    recruiter = pool_users(env)["recruiter@example.com"]
    url = f"/ui/admin/users/{recruiter['username']}"
    assert post_form(env, url, {"group": "admin"}, admin).status_code == 403
    csrf = csrf_of(get(env, "/ui/admin/users", admin).body)
    assert post_form(env, url, {"csrf": csrf, "group": "owner"}, admin).status_code == 422
    assert post_form(env, url, {"csrf": csrf, "enabled": "perhaps"}, admin).status_code == 422
    assert (
        post_form(env, "/ui/admin/users/no-such-user", {"csrf": csrf, "group": "admin"}, admin).status_code
        == 404
    )
    assert pool_users(env)["recruiter@example.com"] == recruiter


# ------------------------------------------------------------------------------- API keys


def create_key(env: Env, cookie: str, **fields: str) -> Any:
    csrf = csrf_of(get(env, "/ui/admin/api-keys", cookie).body)
    return post_form(
        env, "/ui/admin/api-keys", {"csrf": csrf, "name": "ATS sync", "scope": "read", **fields}, cookie
    )


def test_create_a_key_shows_the_secret_once_and_it_works(env: Env, admin: str) -> None:
    response = create_key(env, admin, scope="read-write")
    assert response.status_code == 200
    assert header(response, "cache-control") == "no-store"
    body = response.body.decode()
    assert "Copy it now; it is not shown again." in body
    secret = re.search(r'id="secret" type="text" readonly[^>]* value="(crm_[^"]+)"', body)
    assert secret, body
    key = secret.group(1)
    assert env.client.http.get("/v1/candidates", headers={"X-Api-Key": key}).status_code == 200
    listed = get(env, "/ui/admin/api-keys", admin).body.decode()
    assert key not in listed and "ATS sync" in listed
    assert "Read and write" in listed and "by admin@example.com" in listed


def test_a_bad_key_form_is_422_naming_the_field(env: Env, admin: str) -> None:
    response = create_key(env, admin, name=" ", scope="everything")
    assert response.status_code == 422
    body = response.body.decode()
    assert 'id="e-name"' in body and 'id="e-scope"' in body
    assert "The key was not created; see the marked fields." in body
    assert env.client.http.get("/v1/api-keys", headers=env.auth("admin")).json_body["items"] == []


def test_revoke_a_key_after_confirming(env: Env, admin: str) -> None:
    created = json_post(
        env, "/v1/api-keys", {"name": "Old sync", "scope": "read"}, env.auth("admin")
    ).json_body
    page = get(env, "/ui/admin/api-keys", admin).body.decode()
    assert "<summary>Revoke…</summary>" in page
    assert f'action="/ui/admin/api-keys/{created["id"]}/revoke"' in page
    csrf = csrf_of(page.encode())
    url = f"/ui/admin/api-keys/{created['id']}/revoke"
    assert post_form(env, url, {"csrf": csrf}, admin).status_code == 422  # not confirmed
    assert env.client.http.get("/v1/jobs", headers={"X-Api-Key": created["key"]}).status_code == 200
    response = post_form(env, url, {"csrf": csrf, "confirm": "yes"}, admin)
    assert response.status_code == 303
    assert header(response, "location").startswith("/ui/admin/api-keys?done=revoked")
    assert env.client.http.get("/v1/jobs", headers={"X-Api-Key": created["key"]}).status_code == 401
    page = get(env, "/ui/admin/api-keys?done=revoked", admin).body.decode()
    assert "The key is revoked" in page and '<span class="badge badge-bad">Revoked</span>' in page
    assert f'action="/ui/admin/api-keys/{created["id"]}/revoke"' not in page
    for bad in ("no-such-key", "x" * 300):
        assert (
            post_form(
                env, f"/ui/admin/api-keys/{bad}/revoke", {"csrf": csrf, "confirm": "yes"}, admin
            ).status_code
            == 404
        )


def test_key_names_are_escaped(env: Env, admin: str) -> None:
    json_post(env, "/v1/api-keys", {"name": "<script>x</script>", "scope": "read"}, env.auth("admin"))
    body = get(env, "/ui/admin/api-keys", admin).body.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body


# ------------------------------------------------------------------------------- a first sign-in


def first_sign_in(env: Env, email: str, password: str) -> tuple[Any, str]:
    form = env.client.http.get("/ui/login")
    nonce = cookie_value(header(form, "set-cookie"))
    fields = {"username": email, "password": password, "login_csrf": nonce, "next": "/ui/candidates"}
    return post_form(env, "/ui/login", fields, f"crm_login={nonce}"), nonce


def challenge_fields(body: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', body))


def test_an_invited_user_chooses_a_password_at_the_first_sign_in(env: Env, admin: str) -> None:
    assert invite_form(env, admin).status_code == 303
    response, nonce = first_sign_in(env, "nia@example.com", TEMPORARY)
    assert response.status_code == 200
    body = response.body.decode()
    assert "Choose your password" in body and TEMPORARY not in body
    hidden = challenge_fields(body)
    assert hidden["username"] == "nia@example.com" and hidden["challenge"]
    cookie = f"crm_login={nonce}"
    # Two different passwords, then one the policy refuses: the step is shown again.
    mismatch = post_form(
        env,
        "/ui/login/new-password",
        {**hidden, "new_password": "Chosen-password-9", "confirm_password": "Chosen-password-8"},
        cookie,
    )
    assert mismatch.status_code == 422 and "The two passwords differ" in mismatch.body.decode()
    weak = post_form(
        env, "/ui/login/new-password", {**hidden, "new_password": "weak", "confirm_password": "weak"}, cookie
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.body.decode()
    done = post_form(
        env,
        "/ui/login/new-password",
        {**hidden, "new_password": "Chosen-password-9", "confirm_password": "Chosen-password-9"},
        cookie,
    )
    assert done.status_code == 303 and header(done, "location") == "/ui/candidates"
    session = f"crm_session={cookie_value(header(done, 'set-cookie'))}"
    assert get(env, "/ui/candidates", session).status_code == 200
    assert pool_users(env)["nia@example.com"]["status"] == "CONFIRMED"
    # From now on the chosen password signs in directly; the temporary one no longer does.
    assert sign_in(env, "nia@example.com", "Chosen-password-9").status_code == 303
    assert sign_in(env, "nia@example.com", TEMPORARY).status_code == 401


def test_the_new_password_step_needs_its_form_token_and_a_live_challenge(env: Env, admin: str) -> None:
    assert invite_form(env, admin).status_code == 303
    response, nonce = first_sign_in(env, "nia@example.com", TEMPORARY)
    hidden = challenge_fields(response.body.decode())
    chosen = {"new_password": "Chosen-password-9", "confirm_password": "Chosen-password-9"}
    forged = post_form(env, "/ui/login/new-password", {**hidden, **chosen}, "crm_login=other")
    assert forged.status_code == 403
    for made_up in ("made-up", "a-session-the-pool-never-gave-out"):
        stale = post_form(
            env, "/ui/login/new-password", {**hidden, **chosen, "challenge": made_up}, f"crm_login={nonce}"
        )
        assert stale.status_code == 401 and "sign in again" in stale.body.decode()
    assert pool_users(env)["nia@example.com"]["status"] == "FORCE_CHANGE_PASSWORD"
    assert "crm_session" not in header(stale, "set-cookie")
    assert PASSWORD  # the demo users are untouched
