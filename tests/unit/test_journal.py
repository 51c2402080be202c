"""The local stack's journal and snapshots without moto: lines, segments, replay order, what a
DynamoDB request touched, the snapshot pointer and the data directories of earlier versions,
when a snapshot is due, and the loopback rule of ``crm dev --host``."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from crm_tools import cli
from crm_tools.devstack.journal import (
    Journal,
    State,
    canonical_key,
    dynamodb_touched,
    object_record,
    read_journal,
    replay,
    s3_bucket,
    segments,
    signing_service,
)
from crm_tools.devstack.persist import (
    SNAPSHOT_AGE,
    SNAPSHOT_ENTRIES,
    StateStore,
    read_pointer,
    snapshot_due,
    to_wire,
)
from crm_tools.devstack.stack import is_loopback

KEYS = ("pk", "sk")


def key(pk: str, sk: str = "PROFILE") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def item(pk: str, version: int, sk: str = "PROFILE") -> dict[str, Any]:
    return {**key(pk, sk), "version": {"N": str(version)}}


def ddb(pk: str, version: int | None, table: str = "CrmTable") -> dict[str, Any]:
    return {
        "kind": "ddb",
        "table": table,
        "key": key(pk),
        "item": None if version is None else item(pk, version),
    }


# ---------------------------------------------------------------- segments and lines


def test_entries_come_back_in_order_across_segments_and_numbered(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.open()
    journal.append([ddb("CAND#1", 1), ddb("CAND#2", 1)])
    second = journal.rotate()
    journal.append([ddb("CAND#1", 2)])
    journal.close()

    contents = read_journal(tmp_path)
    assert [(e["seq"], e["key"]["pk"]["S"]) for e in contents.entries] == [
        (1, "CAND#1"),
        (2, "CAND#2"),
        (3, "CAND#1"),
    ]
    assert contents.last_seq == 3
    assert [e["seq"] for e in read_journal(tmp_path, second).entries] == [3]  # from a segment on

    reopened = Journal(tmp_path, fsync=False)
    reopened.open(next_seq=contents.last_seq + 1)  # a new segment after the old ones, numbers go on
    reopened.append([ddb("CAND#3", 1)])
    reopened.close()
    assert segments(tmp_path) == [1, 2, 3]
    assert read_journal(tmp_path).entries[-1]["seq"] == 4


def test_an_unfinished_last_line_and_garbage_are_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.open()
    journal.append([ddb("CAND#1", 1)])
    journal.close()
    path = tmp_path / "00000001.jsonl"
    with path.open("ab") as fh:
        fh.write(b"[1, 2]\n")  # JSON, but not an entry
        fh.write(json.dumps(ddb("CAND#2", 1)).encode()[:20])  # the machine stopped mid-write
    contents = read_journal(tmp_path)
    assert [e["key"]["pk"]["S"] for e in contents.entries] == ["CAND#1"]
    assert (contents.torn, contents.unreadable) == (1, 1)


def test_an_empty_segment_is_not_rotated_and_old_ones_are_removed_with_their_bodies(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.open()
    assert journal.rotate() == 1  # nothing written: the same segment goes on
    journal.append([{"kind": "s3", "bucket": "B", "key": "k", "object": {"blob": "d1"}}], [("B", "d1")])
    second = journal.rotate()
    journal.append([{"kind": "s3", "bucket": "B", "key": "k", "object": {"blob": "d2"}}], [("B", "d2")])
    assert journal.live_blobs() == {("B", "d1"), ("B", "d2")}
    assert journal.remove_before(second) == 1
    assert segments(tmp_path) == [second]
    assert journal.live_blobs() == {("B", "d2")}
    journal.close()


# ---------------------------------------------------------------- replay


def test_replay_keeps_the_last_post_image_of_each_key() -> None:
    state = State(tables={"CrmTable": {canonical_key(key("CAND#1")): item("CAND#1", 1)}})
    entries = [ddb("CAND#1", 2), ddb("CAND#2", 1), ddb("CAND#1", 3), ddb("CAND#2", None)]
    assert replay(state, entries, {"CrmTable": KEYS}) == 4
    assert list(state.tables["CrmTable"].values()) == [item("CAND#1", 3)]
    assert state.touched == {("tables", "CrmTable")}


def test_replaying_on_top_of_a_snapshot_that_already_has_the_changes_is_harmless() -> None:
    """A snapshot read after the journal's cut holds some of the entries after it: same result."""
    entries = [ddb("CAND#1", 2), ddb("CAND#2", 1), ddb("CAND#2", None), ddb("CAND#3", 1)]
    before = State(tables={"CrmTable": {canonical_key(key("CAND#1")): item("CAND#1", 1)}})
    replay(before, entries, {"CrmTable": KEYS})
    later = State(
        tables={
            "CrmTable": {
                canonical_key(key("CAND#1")): item("CAND#1", 2),
                canonical_key(key("CAND#2")): item("CAND#2", 1),
            }
        }
    )
    replay(later, entries, {"CrmTable": KEYS})
    twice = State(tables={"CrmTable": {}})
    replay(twice, entries + entries, {"CrmTable": KEYS})
    assert before.tables == later.tables == twice.tables


def test_replay_of_objects_schedules_whole_tables_and_unknown_resources() -> None:
    state = State(
        tables={"CrmTable": {canonical_key(key("OLD")): item("OLD", 1)}},
        buckets={"ResumeBucket": {"gone.pdf": {"blob": "a"}}},
        schedules={"Campaigns": {}},
    )
    entries = [
        {"kind": "s3", "bucket": "ResumeBucket", "key": "cv.pdf", "object": {"blob": "b", "metadata": {}}},
        {"kind": "s3", "bucket": "ResumeBucket", "key": "gone.pdf", "object": None},
        {"kind": "schedule", "group": "Campaigns", "name": "c1", "schedule": {"Name": "c1"}},
        {"kind": "ddb-table", "table": "CrmTable", "items": [item("NEW", 1)]},
        ddb("X", 1, table="SomeoneElsesTable"),
        {"kind": "a kind from the future"},
    ]
    assert replay(state, entries, {"CrmTable": KEYS}) == 4
    assert state.buckets == {"ResumeBucket": {"cv.pdf": {"blob": "b", "metadata": {}}}}
    assert state.schedules == {"Campaigns": {"c1": {"Name": "c1"}}}
    assert list(state.tables["CrmTable"].values()) == [item("NEW", 1)]


# ---------------------------------------------------------------- what a request touched


def names(table: str) -> tuple[str, ...] | None:
    return KEYS if table == "crm-local-crm" else None


def test_the_keys_a_dynamodb_write_touched() -> None:
    put = {"TableName": "crm-local-crm", "Item": item("CAND#1", 1)}
    assert dynamodb_touched("PutItem", put, names) == [("crm-local-crm", key("CAND#1"))]
    update = {
        "TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm",
        "Key": key("CAND#2"),
    }
    assert dynamodb_touched("UpdateItem", update, names) == [("crm-local-crm", key("CAND#2"))]
    batch = {
        "RequestItems": {
            "crm-local-crm": [
                {"PutRequest": {"Item": item("CAND#3", 1)}},
                {"DeleteRequest": {"Key": key("CAND#4")}},
            ],
            "another-table": [{"DeleteRequest": {"Key": key("CAND#5")}}],
        }
    }
    assert dynamodb_touched("BatchWriteItem", batch, names) == [
        ("crm-local-crm", key("CAND#3")),
        ("crm-local-crm", key("CAND#4")),
    ]
    transaction = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "crm-local-crm", "Key": key("EMAIL#a", "EMAIL")}},
            {"Put": {"TableName": "crm-local-crm", "Item": item("CAND#6", 1)}},
            {"Update": {"TableName": "crm-local-crm", "Key": key("CAND#6")}},  # the same item again
            {"Delete": {"TableName": "crm-local-crm", "Key": key("CAND#6", "LIST#TAG#x")}},
        ]
    }
    assert dynamodb_touched("TransactWriteItems", transaction, names) == [
        ("crm-local-crm", key("CAND#6")),
        ("crm-local-crm", key("CAND#6", "LIST#TAG#x")),
    ]
    assert (
        dynamodb_touched("PutItem", {"TableName": "crm-local-crm", "Item": {"pk": {"S": "x"}}}, names) == []
    )


def test_requests_are_recognised_by_their_signature_and_path() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/scheduler/aws4_request, SignedHeaders=host"
    )
    assert signing_service({"HTTP_AUTHORIZATION": header}) == "scheduler"
    presigned = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    )
    assert signing_service({"QUERY_STRING": presigned}) == "s3"
    assert signing_service({}) is None  # unsigned (a browser's presigned POST): moto takes it as S3
    assert s3_bucket({"PATH_INFO": "/crm-local-resumebucket/resumes/c1/cv.pdf"}) == "crm-local-resumebucket"
    assert s3_bucket({"PATH_INFO": "/"}) is None


def test_an_object_is_kept_with_the_headers_put_object_takes_back() -> None:
    headers = {
        "content-type": "application/pdf",
        "content-disposition": 'attachment; filename="resume.pdf"',
        "x-amz-meta-candidate": "c1",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    }
    assert object_record("d1", headers) == {
        "blob": "d1",
        "metadata": {"candidate": "c1"},
        "ContentType": "application/pdf",
        "ContentDisposition": 'attachment; filename="resume.pdf"',
    }


# ---------------------------------------------------------------- snapshots


class FakeDynamoDB:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {
            "Table": {
                "KeySchema": [
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                    {"AttributeName": "pk", "KeyType": "HASH"},
                ]
            }
        }

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        for requests in RequestItems.values():
            for request in requests:
                stored = to_wire(request["PutRequest"]["Item"])
                self.items[canonical_key({k: stored[k] for k in KEYS})] = stored
        return {}

    def read(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(i)) for i in self.items.values()]


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **kwargs: Any) -> dict[str, Any]:
        self.objects[Key] = {"Body": Body, **kwargs, "ETag": hashlib.md5(Body).hexdigest()}
        return {}

    def list_objects_v2(self, Bucket: str, **kwargs: Any) -> dict[str, Any]:
        return {
            "Contents": [
                {"Key": k, "ETag": o["ETag"], "LastModified": 1} for k, o in sorted(self.objects.items())
            ]
        }

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        found = dict(self.objects[Key])
        return {**found, "Body": io.BytesIO(found["Body"])}


def new_store(data_dir: Path, journal: Journal | None = None) -> tuple[StateStore, FakeDynamoDB, FakeS3]:
    dynamodb, s3 = FakeDynamoDB(), FakeS3()
    store = StateStore(
        data_dir,
        dynamodb=dynamodb,
        s3=s3,
        tables={"CrmTable": "crm-local-crm"},
        buckets={"ResumeBucket": "crm-local-resumebucket"},
        item_reader=dynamodb.read,
        journal=journal,
    )
    return store, dynamodb, s3


def test_a_data_dir_of_an_earlier_version_loads_and_its_journal_is_replayed(tmp_path: Path) -> None:
    """No snapshot.json: the snapshot files as earlier versions wrote them, then every segment."""
    state = tmp_path / "state"
    (state / "dynamodb").mkdir(parents=True)
    saved = {"format": 1, "items": [item("CAND#1", 1), {**item("CAND#2", 1), "blob": {"B": "AP8="}}]}
    (state / "dynamodb" / "CrmTable.json").write_text(json.dumps(saved))
    blobs = state / "s3" / "ResumeBucket" / "blobs"
    blobs.mkdir(parents=True)
    digest = hashlib.sha256(b"%PDF-1.7").hexdigest()
    (blobs / digest).write_bytes(b"%PDF-1.7")
    manifest = {
        "format": 1,
        "objects": [{"key": "cv.pdf", "blob": digest, "metadata": {}, "ContentType": "application/pdf"}],
    }
    (state / "s3" / "ResumeBucket" / "manifest.json").write_text(json.dumps(manifest))
    journal = Journal(state / "journal", fsync=False)
    journal.open()
    journal.append([ddb("CAND#1", 2)])
    journal.close()

    assert read_pointer(state) is None
    store, dynamodb, s3 = new_store(tmp_path)
    assert store.restore() == {"CrmTable": 2, "ResumeBucket": 1}
    assert store.replayed == 1 and store.last_seq == 1
    assert dynamodb.items[canonical_key(key("CAND#1"))]["version"] == {"N": "2"}
    assert dynamodb.items[canonical_key(key("CAND#2"))]["blob"] == {"B": "AP8="}
    assert (
        s3.objects["cv.pdf"]["Body"] == b"%PDF-1.7"
        and s3.objects["cv.pdf"]["ContentType"] == "application/pdf"
    )


def test_a_snapshot_moves_the_pointer_and_compacts_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / "journal", fsync=False)
    store, dynamodb, _ = new_store(tmp_path, journal)
    store.restore()
    journal.open()
    dynamodb.batch_write_item({"t": [{"PutRequest": {"Item": item("CAND#1", 1)}}]})
    journal.append([ddb("CAND#1", 1)])
    assert store.dump() is True
    pointer = read_pointer(tmp_path / "state")
    assert pointer == journal.segment == 2
    assert segments(journal.directory) == [2]  # the first one is in the snapshot now
    dynamodb.batch_write_item({"t": [{"PutRequest": {"Item": item("CAND#1", 2)}}]})
    journal.append([ddb("CAND#1", 2)])  # after the snapshot: only in the journal
    journal.close()

    restored, again, _ = new_store(tmp_path, Journal(tmp_path / "state" / "journal", fsync=False))
    restored.restore()
    assert restored.replayed == 1
    assert list(again.items.values()) == [item("CAND#1", 2)]


def test_a_snapshot_that_stopped_before_its_pointer_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "state" / "journal", fsync=False)
    store, dynamodb, _ = new_store(tmp_path, journal)
    store.restore()
    journal.open()
    for version in (1, 2):
        dynamodb.batch_write_item({"t": [{"PutRequest": {"Item": item("CAND#1", version)}}]})
        journal.append([ddb("CAND#1", version)])
    import crm_tools.devstack.persist as persist

    real_write = persist.atomic_write

    def crash_at_the_pointer(path: Path, data: bytes) -> None:
        if path.name == "snapshot.json":
            raise OSError("killed")
        real_write(path, data)

    monkeypatch.setattr(persist, "atomic_write", crash_at_the_pointer)
    with pytest.raises(OSError):
        store.dump()  # the table file is new, the pointer and the segments are old
    journal.close()
    assert read_pointer(tmp_path / "state") is None and segments(journal.directory) == [1, 2]

    restored, again, _ = new_store(tmp_path, Journal(tmp_path / "state" / "journal", fsync=False))
    restored.restore()
    assert list(again.items.values()) == [item("CAND#1", 2)]


def test_an_unreadable_pointer_replays_the_whole_journal(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text("{not json")
    assert read_pointer(tmp_path) is None
    (tmp_path / "snapshot.json").write_text(json.dumps({"format": 2, "journal_from": 7}))
    assert read_pointer(tmp_path) == 7


def test_a_snapshot_is_taken_when_the_journal_has_grown_or_aged() -> None:
    assert not snapshot_due(entries=0, size=0, age=SNAPSHOT_AGE * 2)  # nothing to compact
    assert not snapshot_due(entries=10, size=2_000, age=1.0)
    assert snapshot_due(entries=10, size=2_000, age=SNAPSHOT_AGE)
    assert snapshot_due(entries=SNAPSHOT_ENTRIES, size=2_000, age=1.0)
    assert snapshot_due(entries=0, size=0, age=0.0, wanted=True)  # a write was not journaled


# ---------------------------------------------------------------- crm dev --host


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.5", "10.0.0.1", "example.com", "localhost.example.com"]
)
def test_hosts_beyond_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_crm_dev_refuses_a_non_loopback_host_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["dev", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "d")])
    assert refused.value.code == 2  # a usage error, like argparse's own
    err = capsys.readouterr().err
    assert (
        "refusing to listen on 0.0.0.0" in err and "admin" in err and "--i-understand-this-is-insecure" in err
    )
    assert not (tmp_path / "d").exists()
    args = cli.build_parser().parse_args(["dev", "--host", "0.0.0.0", "--i-understand-this-is-insecure"])
    assert args.insecure_host is True


def test_crm_projections_rebuild_options() -> None:
    args = cli.build_parser().parse_args(
        ["projections", "rebuild", "--stack-name", "crm-prod", "--resume", "--limit-per-page", "50"]
    )
    assert (args.stack_name, args.resume, args.limit_per_page, args.checkpoint) == (
        "crm-prod",
        True,
        50,
        None,
    )
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["projections", "rebuild", "--limit-per-page", "0"])
