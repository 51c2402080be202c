from crm.access.service import Principal
from crm.candidates.events import events_from_change


def test_roles_and_scopes():
    recruiter = Principal("user", "u1", frozenset({"recruiter"}))
    admin = Principal("user", "u2", frozenset({"admin"}))
    nobody = Principal("user", "u3", frozenset())
    read_key = Principal("api_key", "k1", scope="read")
    write_key = Principal("api_key", "k2", scope="read-write")
    table = {
        "read": (True, True, False, True, True),
        "write": (True, True, False, False, True),
        "admin": (False, True, False, False, False),
    }
    for permission, expected in table.items():
        got = tuple(p.allows(permission) for p in (recruiter, admin, nobody, read_key, write_key))
        assert got == expected, permission


def test_events_carry_ids_only():
    new = {"id": "c1", "email": "ann@example.com", "first_name": "Ann", "version": 1, "source": "api"}
    [created] = events_from_change("INSERT", {"pk": "CAND#c1", "sk": "PROFILE"}, None, new, "r1")
    assert created.detail_type == "candidate.created"
    assert "ann" not in str(created.detail).lower()
    [updated] = events_from_change(
        "MODIFY", {"sk": "PROFILE"}, new, {**new, "first_name": "Anne", "version": 2}, "r2"
    )
    assert updated.detail == {"candidate_id": "c1", "version": 2, "fields": ["first_name"]}
    [erased] = events_from_change("REMOVE", {"sk": "PROFILE"}, new, None, "r3")
    assert erased.detail_type == "candidate.erased"
    app = {"candidate_id": "c1", "job_id": "j1", "source": "job-application", "applied_at": "t"}
    [applied] = events_from_change("INSERT", {"sk": "APP#j1"}, None, app, "r4")
    assert applied.detail == {"candidate_id": "c1", "job_id": "j1", "source": "job-application"}
    assert events_from_change("INSERT", {"sk": "ACT#x"}, None, {"a": 1}, "r5") == []


def test_concurrent_first_requests_all_find_the_signing_key() -> None:
    """A burst of requests right after a start: while one fetches the user pool's keys, the others
    wait for it and then find the key, instead of calling a valid token unsigned."""
    import threading
    import time as _time

    from crm.access.service import JwksCache

    class SlowCache(JwksCache):
        fetches = 0

        def _refresh(self) -> None:
            SlowCache.fetches += 1
            self._fetched_at = _time.monotonic()  # the moment a fetch is marked done ...
            _time.sleep(0.05)
            self._keys = {"kid-1": "the key"}  # ... can come before its keys are there

    cache = SlowCache()
    start = threading.Barrier(16)
    found: list[object] = []

    def ask() -> None:
        start.wait()
        found.append(cache.key_for("kid-1"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == ["the key"] * 16
    assert SlowCache.fetches == 1
