"""The exports page: "Export this list" on the candidates list carries its filters, the page lists the
export with its status and a Download button that mints the link at the click (audited); a pool's page
exports its members; the whole account is offered to admins only; a bad filter is a 422 page. And
the ZIP leaves in parts: the writer never holds more than a part."""

from __future__ import annotations

import io
import os
import zipfile
from urllib.parse import urlencode

import boto3
import requests

from crm.platform.objects import ObjectStore
from tests.integration.conftest import Env, json_post
from tests.integration.test_exports import run_exports
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.integration.test_ui_admin import admin_session


def session(env: Env) -> str:
    response = sign_in(env)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def test_export_this_list_then_download_at_the_click(env: Env) -> None:
    for email, tags in (("ada@example.com", ["python"]), ("bob@example.com", ["java"])):
        body = {"email": email, "first_name": "A", "last_name": "B", "tags": tags}
        assert json_post(env, "/v1/candidates", body, env.auth("recruiter")).status_code == 201
    assert not env.pump.drain()
    cookie = session(env)
    listed = get(env, "/ui/candidates?tag=python", cookie)
    page = listed.body.decode()
    assert "Export this list" in page and 'name="list_query" value="tag=python"' in page
    assert 'href="/ui/exports"' in page  # the menu link
    fields = {"csrf": csrf_of(listed.body), "list_query": "tag=python", "format": "csv"}
    started = post_form(env, "/ui/exports", fields, cookie)
    assert started.status_code == 303 and header(started, "location").startswith("/ui/exports?started=")
    waiting = get(env, header(started, "location"), cookie).body.decode()
    assert "The export has started" in waiting and "Waiting to start" in waiting
    assert "Export the whole account" not in waiting  # admins only
    assert run_exports(env) == 1
    ready = get(env, "/ui/exports", cookie)
    text = ready.body.decode()
    assert "Ready" in text and "1 people" in text and "tag=python" in text
    link = text.split('href="/ui/exports/', 1)[1].split('"', 1)[0]
    clicked = get(env, f"/ui/exports/{link}", cookie)
    assert clicked.status_code == 303
    archive = zipfile.ZipFile(io.BytesIO(requests.get(header(clicked, "location"), timeout=10).content))
    assert b"ada@example.com" in archive.read("candidates.csv")
    assert b"bob@example.com" not in archive.read("candidates.csv")
    entries = env.client.http.get("/v1/audit?action=export.downloaded", headers=env.auth("admin")).json_body
    assert len(entries["items"]) == 1


def test_a_pools_export_the_admins_account_export_and_a_bad_filter(env: Env) -> None:
    pool = json_post(env, "/v1/pools", {"name": "Shortlist"}, env.auth("recruiter")).json_body
    cookie = admin_session(env)
    pool_page = get(env, f"/ui/pools/{pool['id']}", cookie)
    assert "Export this pool" in pool_page.body.decode()
    csrf = csrf_of(pool_page.body)
    assert post_form(env, "/ui/exports", {"csrf": csrf, "pool_id": pool["id"]}, cookie).status_code == 303
    everything = post_form(env, "/ui/exports", {"csrf": csrf, "scope": "account", "format": "jsonl"}, cookie)
    assert everything.status_code == 303
    bad = post_form(env, "/ui/exports", {"csrf": csrf, "list_query": urlencode({"stage": "x"})}, cookie)
    assert bad.status_code == 422 and "Nothing was exported" in bad.body.decode()
    assert run_exports(env) == 2
    text = get(env, "/ui/exports", cookie).body.decode()
    assert "Export the whole account" in text and "The whole account" in text and "Pool Shortlist" in text
    recruiter = session(env)
    denied = post_form(
        env,
        "/ui/exports",
        {"csrf": csrf_of(get(env, "/ui/exports", recruiter).body), "scope": "account"},
        recruiter,
    )
    assert denied.status_code == 403


def test_the_zip_leaves_in_parts_and_the_writer_holds_at_most_one(env: Env) -> None:
    store = ObjectStore(env.stack.bucket)
    part = 5 * 1024 * 1024  # S3's smallest part
    writer = store.multipart("exports/test/export.zip", content_type="application/zip", filename="x.zip")
    writer.part_bytes = part
    archive = zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED)
    with archive, archive.open("big.bin", "w", force_zip64=True) as entry:
        for _ in range(13):
            entry.write(os.urandom(1024 * 1024))
    assert len(writer.parts) == 2  # two full parts left while the ZIP was written
    writer.close()  # the last part, and the upload completed
    assert len(writer.parts) == 3 and writer.peak_buffer < part + 1024 * 1024 + 1024
    body = (
        boto3.client("s3").get_object(Bucket=env.stack.bucket, Key="exports/test/export.zip")["Body"].read()
    )
    assert len(body) == writer.size
    assert len(zipfile.ZipFile(io.BytesIO(body)).read("big.bin")) == 13 * 1024 * 1024
