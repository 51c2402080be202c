"""The sample career site (/careers): server-rendered pages whose plain HTML forms post to the
public endpoints, and the public POSTs answering a browser with pages while API clients keep
the contract (202 JSON, problem+json)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest

from crm.platform.config import get_settings
from tests.integration.conftest import Env, json_post
from tests.integration.test_authorization_matrix import MINIMAL_PDF, header, multipart, unique_email

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM = "application/x-www-form-urlencoded"
HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """The parts of a page the tests look at: forms with their inputs, labels, and every element
    by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.labels: dict[str, str] = {}  # for -> text
        self.by_id: dict[str, dict[str, Any]] = {}
        self.scripts = 0  # scripts a browser would run (not JSON-LD data blocks)
        self.json_ld: list[Any] = []
        self._form: dict[str, Any] | None = None
        self._label: str | None = None
        self._text: list[str] = []
        self._open: list[dict[str, Any]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        element = {"tag": tag, "attrs": a, "text": ""}
        if tag == "script" and a.get("type") != "application/ld+json":
            self.scripts += 1
        if "id" in a:
            self.by_id[a["id"]] = element
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(element)
        if tag == "form":
            self._form = {"attrs": a, "inputs": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            self._form["inputs"].append(a)
        elif tag == "label":
            self._label, self._text = a.get("for", ""), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open and self._open[-1]["attrs"].get("type") == "application/ld+json":
            self.json_ld.append(json.loads(self._open[-1]["text"]))
        if tag == "form":
            self._form = None
        elif tag == "label" and self._label is not None:
            self.labels[self._label] = "".join(self._text).strip()
            self._label = None
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._text.append(data)
        for element in self._open:
            element["text"] += data

    def form_to(self, action: str) -> dict[str, Any]:
        matching = [f for f in self.forms if f["attrs"].get("action") == action]
        assert len(matching) == 1, (action, [f["attrs"] for f in self.forms])
        return matching[0]


def create_job(env: Env, **fields: Any) -> dict[str, Any]:
    response = json_post(env, "/v1/jobs", {"tags": [], **fields}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def close_job(env: Env, job_id: str) -> None:
    response = env.client.http.request(
        "PATCH",
        f"/v1/jobs/{job_id}",
        body=json.dumps({"status": "closed"}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert response.status_code == 200, response.body


def get_page(env: Env, path: str, status: int = 200) -> Page:
    response = env.client.http.get(path, headers={"Accept": BROWSER})
    assert response.status_code == status, response.body
    assert_page_headers(response)
    return Page(response.body.decode())


def assert_page_headers(response: Any) -> None:
    assert header(response, "Content-Type").startswith("text/html")
    csp = header(response, "Content-Security-Policy")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert header(response, "X-Content-Type-Options") == "nosniff"


def browser_post(env: Env, path: str, fields: dict[str, str], files: dict[str, Any] | None = None) -> Any:
    body, content_type = multipart(fields, files or {})
    return env.client.http.post(path, body=body, headers={"Content-Type": content_type, "Accept": BROWSER})


def assert_labelled(page: Page, form: dict[str, Any]) -> None:
    for field in form["inputs"]:
        assert field.get("type") != "hidden", field
        assert field.get("id") and page.labels.get(field["id"]), f"input without a label: {field}"


def stored(email: str) -> str | None:
    from crm.candidates.service import CandidateService

    return CandidateService().find_id_by_email(email)


# ---------------------------------------------------------------------------------- pages


def test_careers_lists_only_open_jobs_each_with_an_apply_form(env: Env) -> None:
    backend = create_job(
        env,
        title="Backend engineer",
        location="Berlin",
        department="Engineering",
        tags=["python", "aws"],
        description="Build the API.",
    )
    designer = create_job(env, title="Product designer", location="Lisbon", department="Design")
    closed = create_job(env, title="Retired role", location="Nowhere")
    close_job(env, closed["id"])

    response = env.client.http.get("/careers", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert_page_headers(response)
    html = response.body.decode()
    page = Page(html)
    assert page.scripts == 0
    for text in ("Backend engineer", "Berlin", "Engineering", "python", "aws", "Build the API.", "Lisbon"):
        assert text in html
    assert "Retired role" not in html
    assert not [f for f in page.forms if closed["id"] in f["attrs"].get("action", "")]

    for job in (backend, designer):
        form = page.form_to(f"/public/jobs/{job['id']}/applications")
        assert form["attrs"]["method"] == "post"
        assert form["attrs"]["enctype"] == "multipart/form-data"
        names = {i["name"]: i for i in form["inputs"]}
        assert set(names) >= {
            "first_name",
            "last_name",
            "email",
            "phone",
            "linkedin_url",
            "resume",
            "marketing_consent",
            "website",
        }
        assert names["email"]["type"] == "email"
        assert names["resume"]["type"] == "file"
        assert {".pdf", ".doc", ".docx"} <= set(names["resume"]["accept"].split(","))
        assert names["marketing_consent"]["type"] == "checkbox"
        assert names["website"]["type"] == "text"  # the honeypot is hidden with CSS, not type=hidden
        honeypot = page.by_id[names["website"]["id"]]
        assert honeypot["attrs"]["tabindex"] == "-1"
        assert_labelled(page, form)
    assert ".hp {" in html and "left: -10000px" in html

    talent = page.form_to("/public/talent-network")
    assert {i["name"] for i in talent["inputs"]} >= {"first_name", "last_name", "email", "website"}
    assert_labelled(page, talent)
    alerts = page.form_to("/public/job-alerts")
    assert {i["name"] for i in alerts["inputs"]} >= {"email", "first_name", "last_name", "tags", "location"}
    assert_labelled(page, alerts)


def test_a_job_page_and_a_closed_or_unknown_job(env: Env) -> None:
    job = create_job(env, title="Data engineer", location="Remote", tags=["sql"])
    page = get_page(env, f"/careers/jobs/{job['id']}")
    form = page.form_to(f"/public/jobs/{job['id']}/applications")
    assert form["attrs"]["enctype"] == "multipart/form-data"
    assert_labelled(page, form)
    close_job(env, job["id"])
    get_page(env, f"/careers/jobs/{job['id']}", status=404)
    get_page(env, "/careers/jobs/no-such-job", status=404)


@pytest.mark.parametrize(
    ("form", "text"),
    [
        ("application", "Thank you for applying"),
        ("talent-network", "talent network"),
        ("job-alerts", "Check your inbox to confirm"),
        ("<b>x</b>", "Thank you"),
    ],
)
def test_thank_you_pages(env: Env, form: str, text: str) -> None:
    response = env.client.http.get(f"/careers/thanks?{urlencode({'form': form})}")
    assert response.status_code == 200
    assert_page_headers(response)
    html = response.body.decode()
    assert text in html
    assert "<b>x</b>" not in html


def test_a_hostile_job_is_shown_as_text(env: Env) -> None:
    job = create_job(env, title=HOSTILE, location=HOSTILE, department=HOSTILE, description=HOSTILE)
    for path in ("/careers", f"/careers/jobs/{job['id']}"):
        response = env.client.http.get(path)
        assert_page_headers(response)
        html = response.body.decode()
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert Page(html).scripts == 0
    # in the structured data too, the text stays text: JSON with < and > escaped, read back whole
    (posting,) = get_page(env, f"/careers/jobs/{job['id']}").json_ld
    assert posting["title"] == HOSTILE and posting["jobLocation"]["address"]["addressLocality"] == HOSTILE


#: What Google for Jobs requires of a JobPosting (developers.google.com/search/docs/appearance/
#: structured-data/job-posting): these, and a jobLocation unless the job is remote.
JOB_POSTING_REQUIRED = ("title", "description", "datePosted", "hiringOrganization")


def test_a_job_page_carries_job_posting_structured_data(env: Env) -> None:
    job = create_job(
        env,
        title="Data engineer",
        location="Berlin",
        department="Data",
        description="Pipelines.",
        tags=["sql"],
    )
    (posting,) = get_page(env, f"/careers/jobs/{job['id']}").json_ld
    assert posting["@context"] == "https://schema.org" and posting["@type"] == "JobPosting"
    for name in JOB_POSTING_REQUIRED:
        assert posting.get(name), name
    assert posting["title"] == "Data engineer" and posting["description"] == "Pipelines."
    assert posting["datePosted"] == job["created_at"][:10]
    # EMPLOYER_NAME is not set here: the name is MAIL_FROM's display name
    sender_name = get_settings().mail_from.partition("<")[0].strip()
    assert sender_name and posting["hiringOrganization"] == {"@type": "Organization", "name": sender_name}
    assert posting["jobLocation"] == {
        "@type": "Place",
        "address": {"@type": "PostalAddress", "addressLocality": "Berlin"},
    }
    assert posting["identifier"]["value"] == job["id"] and posting["directApply"] is True

    remote = create_job(env, title="Support engineer", location="Remote (EU)")
    (posting,) = get_page(env, f"/careers/jobs/{remote['id']}").json_ld
    assert posting["jobLocationType"] == "TELECOMMUTE" and "jobLocation" not in posting
    assert posting["description"] == "Support engineer"  # never empty: Google requires it

    listed = env.client.http.get("/public/jobs").json_body["items"]
    assert {j["id"]: j["posted_at"] for j in listed}[job["id"]] == job["created_at"]


# ---------------------------------------------------------------------------------- browser posts


def test_applying_as_a_browser_redirects_to_the_thank_you_page(env: Env) -> None:
    job = create_job(env, title="Site reliability engineer", tags=["aws"])
    email = unique_email("browser")
    response = browser_post(
        env,
        f"/public/jobs/{job['id']}/applications",
        {
            "first_name": "Bo",
            "last_name": "Wser",
            "email": email,
            "phone": "",
            "linkedin_url": "https://www.linkedin.com/in/bowser",
            "marketing_consent": "true",
            "website": "",
        },
        {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")},
    )
    assert response.status_code == 303, response.body
    assert header(response, "Location") == "/careers/thanks?form=application"
    assert response.body in (b"", "", None)

    from crm.candidates.service import CandidateService

    candidate_id = stored(email)
    assert candidate_id
    applications = CandidateService().applications(candidate_id)
    assert [a.job_id for a in applications] == [job["id"]]
    candidate = CandidateService().get(candidate_id)
    assert candidate.consents["marketing"].granted

    again = browser_post(
        env,
        f"/public/jobs/{job['id']}/applications",
        {"first_name": "Bo", "last_name": "Wser", "email": email},
    )
    assert again.status_code == 303  # a known email gets the same answer
    assert header(again, "Location") == "/careers/thanks?form=application"


def test_an_invalid_email_as_a_browser_shows_the_form_again(env: Env) -> None:
    job = create_job(env, title="QA engineer")
    fields = {"first_name": HOSTILE, "last_name": "Typed", "email": "not-an-email", "phone": "+49 30 1234"}
    response = browser_post(
        env,
        f"/public/jobs/{job['id']}/applications",
        fields,
        {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")},
    )
    assert response.status_code == 422
    assert_page_headers(response)
    html = response.body.decode()
    page = Page(html)
    form = page.form_to(f"/public/jobs/{job['id']}/applications")
    inputs = {i["name"]: i for i in form["inputs"]}
    email = inputs["email"]
    assert email["aria-invalid"] == "true"
    error = page.by_id[email["aria-describedby"]]
    assert error["text"].strip()  # the message, right after the field
    assert html.index(email["id"] + '"') < html.index(email["aria-describedby"])
    assert inputs["first_name"]["value"] == HOSTILE  # kept, and escaped
    assert HOSTILE not in html and page.scripts == 0
    assert inputs["last_name"]["value"] == "Typed"
    assert inputs["phone"]["value"] == "+49 30 1234"
    assert "value" not in inputs["resume"] or not inputs["resume"]["value"]
    assert "aria-invalid" not in inputs["first_name"]


def test_the_same_invalid_post_as_json_is_unchanged(env: Env) -> None:
    job = create_job(env, title="QA engineer")
    fields = {"first_name": "Jay", "last_name": "Son", "email": "not-an-email"}
    for headers in ({"Accept": "application/json"}, {}, {"Accept": "*/*"}):
        body, content_type = multipart(fields, {})
        response = env.client.http.post(
            f"/public/jobs/{job['id']}/applications",
            body=body,
            headers={"Content-Type": content_type, **headers},
        )
        assert response.status_code == 422
        assert header(response, "Content-Type") == "application/problem+json"
        problem = response.json_body
        assert problem["status"] == 422 and [e["field"] for e in problem["errors"]] == ["email"]
    # JSON bodies keep the API contract even when the client prefers HTML
    as_json = env.client.http.post(
        f"/public/jobs/{job['id']}/applications",
        body=json.dumps(fields),
        headers={"Content-Type": "application/json", "Accept": BROWSER},
    )
    assert as_json.status_code == 422
    assert header(as_json, "Content-Type") == "application/problem+json"
    ok = env.client.http.post(
        "/public/talent-network",
        body=urlencode({"email": unique_email("api"), "first_name": "A", "last_name": "Pi"}).encode(),
        headers={"Content-Type": FORM, "Accept": "application/json"},
    )
    assert ok.status_code == 202 and ok.json_body == {"status": "received"}


def test_talent_network_and_job_alerts_as_a_browser(env: Env) -> None:
    email = unique_email("tn")
    talent = browser_post(
        env,
        "/public/talent-network",
        {"first_name": "Tia", "last_name": "Ng", "email": email, "tags": "go, k8s"},
    )
    assert talent.status_code == 303, talent.body
    assert header(talent, "Location") == "/careers/thanks?form=talent-network"
    assert stored(email)

    alerts_email = unique_email("ja")
    body = urlencode(
        {"first_name": "Jo", "last_name": "Al", "email": alerts_email, "tags": "python, aws", "location": ""}
    ).encode()
    alerts = env.client.http.post(
        "/public/job-alerts", body=body, headers={"Content-Type": FORM, "Accept": BROWSER}
    )
    assert alerts.status_code == 303, alerts.body
    assert header(alerts, "Location") == "/careers/thanks?form=job-alerts"
    from crm.alerts.repository import AlertSubscriptionRepository

    candidate_id = stored(alerts_email)
    assert candidate_id
    pending = (AlertSubscriptionRepository().get(candidate_id) or {})["pending"]
    assert pending["tags"] == ["python", "aws"]


def test_job_alerts_without_tags_or_location_as_a_browser(env: Env) -> None:
    response = browser_post(
        env, "/public/job-alerts", {"first_name": "Jo", "last_name": "Al", "email": "jo@example.com"}
    )
    assert response.status_code == 422
    assert_page_headers(response)
    html = response.body.decode()
    assert "tags or a location" in html
    inputs = {i["name"]: i for i in Page(html).form_to("/public/job-alerts")["inputs"]}
    assert inputs["email"]["value"] == "jo@example.com"
    assert stored("jo@example.com") is None


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/public/talent-network", "talent-network"),
        ("/public/job-alerts", "job-alerts"),
        ("apply", "application"),
    ],
)
def test_a_honeypot_hit_gets_the_same_redirect_and_nothing_is_stored(env: Env, path: str, form: str) -> None:
    if path == "apply":
        path = f"/public/jobs/{create_job(env, title='Bot bait')['id']}/applications"
    email = unique_email("bot")
    fields = {"first_name": "B", "last_name": "Ot", "email": email, "tags": "spam", "website": "http://spam"}
    response = browser_post(env, path, fields)
    assert response.status_code == 303
    assert header(response, "Location") == f"/careers/thanks?form={form}"
    assert stored(email) is None


def test_bad_bodies_as_a_browser_get_html_error_pages(env: Env) -> None:
    from crm.platform.config import get_settings

    malformed = env.client.http.post(
        "/public/talent-network",
        body=b"no boundary here",
        headers={"Content-Type": "multipart/form-data", "Accept": BROWSER},
    )
    assert malformed.status_code == 400
    assert_page_headers(malformed)
    too_big = env.client.http.post(
        "/public/job-alerts",
        body=b"x=" + b"a" * (get_settings().max_form_bytes + 1),
        headers={"Content-Type": FORM, "Accept": BROWSER},
    )
    assert too_big.status_code == 413
    assert_page_headers(too_big)
    closed = create_job(env, title="Gone")
    close_job(env, closed["id"])
    gone = browser_post(env, f"/public/jobs/{closed['id']}/applications", {"email": unique_email()})
    assert gone.status_code == 404
    assert_page_headers(gone)
    # a form with enctype="text/plain": the endpoints take no such body, and say so as a page
    plain = env.client.http.post(
        "/public/talent-network",
        body=b"email=a@example.com\r\n",
        headers={"Content-Type": "text/plain", "Accept": BROWSER},
    )
    assert plain.status_code == 415
    assert_page_headers(plain)
    # a body no HTML form sends is the API's business, whatever the Accept header says
    unsupported = env.client.http.post(
        "/public/talent-network", body=b"<a/>", headers={"Content-Type": "application/xml", "Accept": BROWSER}
    )
    assert unsupported.status_code == 415
    assert header(unsupported, "Content-Type") == "application/problem+json"
