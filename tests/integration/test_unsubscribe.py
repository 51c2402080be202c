"""Unsubscribe links: the page, RFC 8058 one-click, tampered and foreign tokens, suppression."""

from urllib.parse import urlsplit

from crm.mailing.suppression import SuppressionRepository
from crm.platform.signing import sign
from crm.portal.unsubscribe import unsubscribe_url
from tests.integration.conftest import json_post

HTML = {"Accept": "text/html,application/xhtml+xml"}
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def candidate(env, **fields):
    body = {
        "email": "sub@example.com",
        "first_name": "Sam",
        "last_name": "Sub",
        "marketing_consent": True,
        **fields,
    }
    r = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert r.status_code == 201, r.body
    return r.json_body


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_page_then_one_click_withdraws_consent_once(env):
    c = candidate(env)
    url = unsubscribe_url(c["id"], "marketing")
    assert url.startswith("https://careers.example.com/public/unsubscribe?token=")
    page = env.client.http.get(path_of(url), headers=HTML)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "news and campaigns" in page.body.decode() and 'method="post"' in page.body.decode()
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for _ in range(2):  # a mail client may POST more than once
        done = env.client.http.post(path_of(url), body=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert done.status_code == 200, done.body
    after = env.client.http.get(f"/v1/candidates/{c['id']}", headers=env.auth("recruiter")).json_body
    assert after["consents"]["marketing"]["granted"] is False
    assert after["consents"]["marketing"]["source"] == "unsubscribe-link"
    timeline = env.client.http.get(
        f"/v1/candidates/{c['id']}/timeline", headers=env.auth("recruiter")
    ).json_body
    assert [a["kind"] for a in timeline["items"]].count("unsubscribed") == 1
    assert not SuppressionRepository().is_suppressed("sub@example.com")


def test_unsubscribe_from_everything_suppresses_the_address(env):
    c = candidate(env)
    done = env.client.http.post(path_of(unsubscribe_url(c["id"], "all")), body=b"", headers=ONE_CLICK)
    assert done.status_code == 200
    after = env.client.http.get(f"/v1/candidates/{c['id']}", headers=env.auth("recruiter")).json_body
    assert {t: v["granted"] for t, v in after["consents"].items()} == {
        "marketing": False,
        "job_alerts": False,
        "events": False,
    }
    assert SuppressionRepository().reasons("SUB@example.com") == ["unsubscribed"]


def test_tampered_expired_and_foreign_tokens_are_refused_and_change_nothing(env):
    c = candidate(env)
    url = path_of(unsubscribe_url(c["id"], "marketing"))
    tampered = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    foreign = "/public/unsubscribe?token=" + sign("portal", {"c": c["id"], "t": "marketing"})
    forged_topic = "/public/unsubscribe?token=" + sign("unsubscribe", {"c": c["id"], "t": "salary"})
    for bad in (tampered, foreign, forged_topic, "/public/unsubscribe", "/public/unsubscribe?token="):
        page = env.client.http.get(bad, headers=HTML)
        assert page.status_code == 400 and "does not work" in page.body.decode()
        api = env.client.http.post(bad, body=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert api.status_code == 400 and api.headers["Content-Type"] == "application/problem+json"
    after = env.client.http.get(f"/v1/candidates/{c['id']}", headers=env.auth("recruiter")).json_body
    assert after["consents"]["marketing"]["granted"] is True and after["version"] == 1


def test_a_link_for_an_erased_person_still_answers(env):
    c = candidate(env)
    url = path_of(unsubscribe_url(c["id"], "marketing"))
    assert env.client.http.delete(f"/v1/candidates/{c['id']}", headers=env.auth("admin")).status_code == 204
    assert env.client.http.post(url, body=b"List-Unsubscribe=One-Click", headers=ONE_CLICK).status_code == 200
