"""CORS on the public endpoints: only configured career-site origins are allowed."""

import os

import pytest

from crm.platform.config import reset_settings


@pytest.fixture
def cors_env(env):
    os.environ["CORS_ORIGINS"] = "https://careers.example.com, https://jobs.example.org"
    reset_settings()
    yield env
    os.environ.pop("CORS_ORIGINS", None)
    reset_settings()


def test_allowed_origin_gets_cors_headers_on_preflight_and_post(cors_env):
    preflight = cors_env.client.http.request(
        "OPTIONS",
        "/public/talent-network",
        headers={"Origin": "https://careers.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://careers.example.com"
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    r = cors_env.client.http.post(
        "/public/talent-network",
        body=b"email=c%40example.com&first_name=C&last_name=D",
        headers={"Origin": "https://jobs.example.org", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 202
    assert r.headers["Access-Control-Allow-Origin"] == "https://jobs.example.org"


def test_other_origins_get_no_cors_headers(cors_env):
    for path in ("/public/jobs",):
        r = cors_env.client.http.get(path, headers={"Origin": "https://evil.example.net"})
        assert r.status_code == 200
        assert "Access-Control-Allow-Origin" not in r.headers
    bad = cors_env.client.http.post(
        "/public/talent-network",
        body=b"{}",
        headers={"Origin": "https://evil.example.net", "Content-Type": "application/json"},
    )
    assert bad.status_code == 422 and "Access-Control-Allow-Origin" not in bad.headers
    err = cors_env.client.http.post(
        "/public/talent-network",
        body=b"{}",
        headers={"Origin": "https://careers.example.com", "Content-Type": "application/json"},
    )
    # errors carry CORS headers too, so the career site can show them
    assert (
        err.status_code == 422 and err.headers["Access-Control-Allow-Origin"] == "https://careers.example.com"
    )
