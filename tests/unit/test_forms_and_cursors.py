import json

import pytest

from crm.platform.errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType
from crm.platform.forms import decode_form
from crm.platform.table import decode_cursor, encode_cursor

LIMITS = {"max_form_bytes": 1000, "max_multipart_bytes": 5000}


def test_json_urlencoded_and_multipart_give_the_same_fields():
    as_json = decode_form(
        "application/json", json.dumps({"email": "a@b.co", "tags": ["x", "y"]}).encode(), **LIMITS
    )
    as_form = decode_form("application/x-www-form-urlencoded", b"email=a%40b.co&tags=x&tags=y", **LIMITS)
    body = (
        b'--B\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.co\r\n'
        b'--B\r\nContent-Disposition: form-data; name="tags"\r\n\r\nx\r\n'
        b'--B\r\nContent-Disposition: form-data; name="tags"\r\n\r\ny\r\n'
        b'--B\r\nContent-Disposition: form-data; name="resume"; filename="cv.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 hi\r\n--B--\r\n"
    )
    as_multipart = decode_form("multipart/form-data; boundary=B", body, **LIMITS)
    assert as_json.fields == as_form.fields == as_multipart.fields == {"email": "a@b.co", "tags": ["x", "y"]}
    assert as_multipart.files["resume"].data == b"%PDF-1.4 hi"


@pytest.mark.parametrize(
    "content_type,body,error",
    [
        ("application/json", b"{not json", MalformedBody),
        ("application/json", b"[1, 2]", MalformedBody),
        ("application/json", b"", MalformedBody),
        ("text/plain", b"hello", UnsupportedMediaType),
        ("application/json", b"{" + b" " * 2000 + b"}", PayloadTooLarge),
        ("multipart/form-data", b"--x", MalformedBody),
        ("multipart/form-data; boundary=B", b"x" * 6000, PayloadTooLarge),
    ],
)
def test_bad_bodies(content_type, body, error):
    with pytest.raises(error):
        decode_form(content_type, body, **LIMITS)


def test_cursor_round_trip_and_tampering():
    key = {"pk": {"S": "CAND#1"}, "sk": {"S": "LIST#ALL"}, "gsi1pk": {"S": "CANDS"}, "gsi1sk": {"S": "t#1"}}
    cursor = encode_cursor(key)
    assert decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"}) == key
    for bad in ("!!!", "e30", cursor[:-3], encode_cursor({"pk": {"S": "x"}, "sk": {"S": "y"}})):
        with pytest.raises(MalformedBody):
            decode_cursor(bad, {"pk", "sk", "gsi1pk", "gsi1sk"})


def test_attribute_value_codec_round_trips_what_items_hold():
    from boto3.dynamodb.types import TypeSerializer

    from crm.platform.table import from_item, to_item

    values = {
        "pk": "CAND#1",
        "version": 3,
        "score": 1.5,
        "ok": True,
        "gone": None,
        "tags": ["b", "a", "a"],
        "pools": {"p1": "interview"},
        "consents": {"marketing": {"granted": False, "at": "t"}},
        "list": [1, "x"],
    }
    item = to_item(values)
    assert item["tags"] == {"SS": ["a", "b"]} and "gone" not in item
    # what boto3's own serializer writes for the same values
    reference = TypeSerializer()
    for name in ("version", "pools", "consents", "list", "ok"):
        assert item[name] == reference.serialize(values[name]), name
    assert from_item(item) == {**{k: v for k, v in values.items() if k != "gone"}, "tags": ["a", "b"]}
