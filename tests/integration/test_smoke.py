from tests.integration.conftest import json_post


def test_join_then_list(env):
    r = json_post(
        env,
        "/public/talent-network",
        {"email": "A@x.com ", "first_name": "Ann", "last_name": "Lee", "tags": ["python", "aws"]},
    )
    assert r.status_code == 202, r.body
    assert env.pump.drain() == []
    r = env.client.http.get("/v1/candidates?tag=python", headers=env.auth("recruiter"))
    assert r.status_code == 200, r.body
    assert [c["email"] for c in r.json_body["items"]] == ["a@x.com"]
