"""Demo users and demo data for the local stack.

Users are created directly in the (local) user pool. Data goes in through the
public HTTP contract of the running API, like a customer's career site and
recruiters would put it there, so the demo also exercises the real code paths.
Everything is deterministic (a seeded random generator), and any call that does
not answer 2xx stops the seeding with an error naming the call.
"""

from __future__ import annotations

import contextlib
import random
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

DEFAULT_DEMO_PASSWORD = "Demo-Password-2026"  # noqa: S105 - local demo only; satisfies the pool policy: 12+, upper, lower, digit
DEMO_USERS = (
    ("admin@example.com", "admin"),
    ("recruiter@example.com", "recruiter"),
    ("manager@example.com", "hiring_manager"),  # hiring manager of the first job below
    ("employee@example.com", "employee"),  # may only refer people and follow their referrals
)
SEED = 2026


class SeedError(RuntimeError):
    """A demo-data call did not succeed."""


# ---------------------------------------------------------------- users


def create_demo_users(cognito: Any, user_pool_id: str, password: str) -> None:
    """Create (or reset) the demo users with a permanent password and their group."""
    for username, group in DEMO_USERS:
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=user_pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": username},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=username, GroupName=group)


# ---------------------------------------------------------------- the data set

_NAMES: tuple[tuple[str, str, str | None], ...] = (
    # (first name, last name, ASCII e-mail local part when the name is not Latin script)
    ("Amara", "Okafor", None),
    ("José", "Álvarez", None),
    ("Zoë", "Müller", None),
    ("Łukasz", "Wiśniewski", None),
    ("Søren", "Kierkegaard-Holm", None),
    ("François", "Lefèvre", None),
    ("Ümit", "Yıldız", None),  # noqa: RUF001 - Turkish dotless i
    ("Nguyễn", "Thị Mai", None),
    ("Björn", "Sigurðsson", None),
    ("Chloé", "Dubois", None),
    ("Małgorzata", "Kowalczyk", None),
    ("Siobhán", "O'Connor", None),
    ("Renée", "Da Silva", None),
    ("João", "Gonçalves", None),
    ("Ana", "Šimić", None),
    ("Antonín", "Dvořák", None),
    ("Mei", "Chen", None),
    ("Wei", "Zhang", None),
    ("美咲", "佐藤", "misaki.sato"),
    ("Arjun", "Patel", None),
    ("Priya", "Raghunathan", None),
    ("Fatima", "Al-Sayed", None),
    ("Kwame", "Mensah", None),
    ("Ngozi", "Adeyemi", None),
    ("Olivia", "Smith", None),
    ("Liam", "Johnson", None),
    ("Emma", "Williams", None),
    ("Noah", "Brown", None),
    ("Ava", "Jones", None),
    ("Lucas", "García", None),
    ("Sofía", "Martínez", None),
    ("Mateo", "Rodríguez", None),
    ("Isabella", "Rossi", None),
    ("Giulia", "Bianchi", None),
    ("Hannah", "Schmidt", None),
    ("Felix", "Wagner", None),
    ("Lena", "Fischer", None),
    ("Jonas", "Weber", None),
    ("Elif", "Demir", None),
    ("Mehmet", "Kaya", None),
    ("Aino", "Virtanen", None),
    ("Eero", "Mäkinen", None),
    ("Ingrid", "Johansson", None),
    ("Lars", "Nilsson", None),
    ("Katarzyna", "Nowak", None),
    ("Tomasz", "Zieliński", None),
    ("Daniela", "Novák", None),
    ("Petra", "Horváth", None),
    ("Yusuf", "Ibrahim", None),
    ("Leila", "Haddad", None),
    ("Omar", "Farouk", None),
    ("Sipho", "Dlamini", None),
    ("Thandiwe", "Nkosi", None),
    ("Hiroshi", "Tanaka", None),
    ("Yuki", "Yamamoto", None),
    ("Min-jun", "Kim", None),
    ("Seo-yeon", "Park", None),
    ("Rafael", "Pereira", None),
    ("Camila", "Souza", None),
    ("Diego", "Fernández", None),
    ("Valentina", "López", None),
    ("Aisling", "Murphy", None),
    ("Cian", "Byrne", None),
    ("Αλέξανδρος", "Παπαδόπουλος", "alexandros.papadopoulos"),
    ("Ольга", "Иванова", "olga.ivanova"),
    ("Maya", "Cohen", None),
    ("Noa", "Levi", None),
    ("Ravi", "Shankar", None),
)

_LOCATIONS = (
    ("London, UK", "+44 20 7946 0{n:03d}"),
    ("Manchester, UK", "+44 161 496 0{n:03d}"),
    ("Berlin, Germany", "+49 30 901820{n:02d}"),
    ("München, Germany", "+49 89 12345{n:03d}"),
    ("Lisbon, Portugal", "+351 21 000 0{n:03d}"),
    ("Paris, France", "+33 1 99 00 0{n:03d}"),
    ("Amsterdam, Netherlands", "+31 20 555 0{n:03d}"),
    ("Kraków, Poland", "+48 12 555 0{n:03d}"),
    ("New York, USA", "+1 212 555 0{n:03d}"),
    ("Toronto, Canada", "+1 416 555 0{n:03d}"),
    ("São Paulo, Brazil", "+55 11 5555 0{n:03d}"),
    ("Remote", "+44 7700 900{n:03d}"),
)

_TAGS = (
    "python",
    "aws",
    "typescript",
    "react",
    "go",
    "java",
    "data",
    "ml",
    "devops",
    "design",
    "ux",
    "product",
    "sales",
    "marketing",
    "finance",
    "people",
    "leadership",
    "graduate",
)
_SOURCES = ("linkedin", "referral", "career-site", "event", "agency", "github", "talent-network")
_DOMAINS = ("example.com", "example.org", "example.net")

JOBS: tuple[dict[str, Any], ...] = (
    {
        "title": "Senior Backend Engineer (Python)",
        "department": "Engineering",
        "location": "London, UK",
        "tags": ["python", "aws"],
        "description": "Build the serverless services behind our hiring products. Python, DynamoDB, Lambda.",
        "status": "open",
        "hiring_managers": ["manager@example.com"],
    },
    {
        "title": "Product Designer",
        "department": "Design",
        "location": "Lisbon, Portugal",
        "tags": ["design", "ux"],
        "description": "Own the end-to-end design of the recruiter experience, from research to pixels.",
        "status": "open",
    },
    {
        "title": "Data Engineer",
        "department": "Data",
        "location": "Berlin, Germany",
        "tags": ["data", "python"],
        "description": "Design pipelines and models that turn hiring activity into insight.",
        "status": "open",
    },
    {
        "title": "Account Executive",
        "department": "Sales",
        "location": "New York, USA",
        "tags": ["sales"],
        "description": "Bring our CRM to talent teams across North America.",
        "status": "open",
    },
    {
        "title": "Engineering Manager",
        "department": "Engineering",
        "location": "Remote",
        "tags": ["leadership", "python"],
        "description": "Lead a team of six engineers (this role has been filled).",
        "status": "closed",
    },
)

TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "Welcome to the talent network",
        "subject": "Welcome, {{ first_name }}",
        "html": (
            "<p>Hello {{ first_name }},</p><p>Thank you for joining our talent network. We will write "
            "when a role that fits you opens.</p>"
            '<p><a href="{{ portal_url }}">Your data and email preferences</a> · '
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
        ),
        "text": (
            "Hello {{ first_name }},\n\nThank you for joining our talent network. We will write when a "
            "role that fits you opens.\n\nYour data and preferences: {{ portal_url }}\n"
            "Unsubscribe: {{ unsubscribe_url }}\n"
        ),
    },
    {
        "name": "New roles this month",
        "subject": "{{ first_name }}, new roles this month",
        "html": (
            "<p>Hi {{ first_name }},</p><p>We have opened new roles{% if tags %} for people who know "
            "{{ tags | join(', ') }}{% endif %}. Have a look on our career site.</p>"
            '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
        ),
        "text": (
            "Hi {{ first_name }},\n\nWe have opened new roles{% if tags %} for people who know "
            "{{ tags | join(', ') }}{% endif %}. Have a look on our career site.\n\n"
            "Unsubscribe: {{ unsubscribe_url }}\n"
        ),
    },
)

POOLS: tuple[dict[str, Any], ...] = (
    {"name": "Backend engineers", "description": "Python, Go and Java engineers for platform roles."},
    {"name": "Design talent", "description": "Product and UX designers we would love to work with."},
    {"name": "Graduates 2026", "description": "Graduates and interns for the 2026 intake."},
    {"name": "Sales leaders", "description": "Account executives and sales managers."},
)
_POOL_TAGS = (
    {"python", "go", "java", "aws", "devops"},
    {"design", "ux", "product"},
    {"graduate"},
    {"sales", "marketing"},
)
STAGES = ("sourced", "contacted", "interview", "offer")


_NOTES = (
    "Met at the Berlin Python meetup; writes Django and FastAPI, open to a move in the spring.",
    "Phone screen went well: Kubernetes and Terraform at scale, prefers remote work.",
    "Referred by a colleague. Strong in Python data pipelines (Airflow, Spark); would relocate to Berlin.",
    "Portfolio is excellent: accessibility audits and a design system in Figma.",
    "Not looking right now; asked us to stay in touch about staff roles next year.",
    "Spoke at PyCon about testing with Hypothesis; great communicator.",
    "Led a sales team of eight in the Nordics; fluent in German and Swedish.",
)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c if c.isalnum() else "-" for c in folded.lower()).strip("-")


def _slug(first: str, last: str, override: str | None) -> str:
    if override:
        return override
    return f"{_ascii(first)}.{_ascii(last)}".replace("--", "-")


@dataclass
class DemoData:
    candidates: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[tuple[int, int, str]] = field(default_factory=list)  # candidate, pool, stage
    applications: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # job index, form
    sourced: list[tuple[int, int]] = field(default_factory=list)  # candidate, job a recruiter added them to
    signups: list[dict[str, Any]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # candidate, recruiter's note


def demo_data(seed: int = SEED) -> DemoData:
    """The demo data set; the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    data = DemoData()
    names = list(_NAMES)
    rng.shuffle(names)
    people = names[:62]
    for number, (first, last, override) in enumerate(people):
        slug = _slug(first, last, override)
        location, phone = rng.choice(_LOCATIONS)
        tags = sorted(rng.sample(_TAGS, rng.randint(1, 3)))
        candidate = {
            "email": f"{slug}@{rng.choice(_DOMAINS)}",
            "first_name": first,
            "last_name": last,
            "phone": phone.format(n=number + 100).replace(" ", ""),  # E.164
            "location": location,
            "linkedin_url": f"https://www.linkedin.com/in/{slug.replace('.', '-')}",
            "tags": tags,
            "source": rng.choice(_SOURCES),
            "marketing_consent": rng.random() < 0.7,
        }
        data.candidates.append(candidate)
        for pool_index, pool_tags in enumerate(_POOL_TAGS):
            if pool_tags & set(tags) and rng.random() < 0.6:
                data.memberships.append((number, pool_index, rng.choice(STAGES)))
        if location.startswith("Berlin") and "python" not in tags:
            # Berlin is where the Data Engineer job is: its people know Python, so a search
            # for "python berlin" finds them (set after the draws, so the rest stays the same).
            candidate["tags"] = sorted([*tags, "python"])
    open_jobs = [i for i, job in enumerate(JOBS) if job["status"] == "open"]
    for number, (first, last, override) in enumerate(names[62:65]):
        slug = _slug(first, last, override)
        job = open_jobs[number % len(open_jobs)]
        form = {
            "email": f"{slug}@example.com",
            "first_name": first,
            "last_name": last,
            "location": rng.choice(_LOCATIONS)[0],
            "tags": list(JOBS[job]["tags"]),
            "marketing_consent": True,
            "utm_source": "careers-page",
            "utm_medium": "web",
            "utm_campaign": "demo",
        }
        data.applications.append((job, form))
    # A known candidate applies too: it updates that candidate, never creates a second one.
    known = data.candidates[0]
    data.applications.append(
        (open_jobs[0], {k: known[k] for k in ("email", "first_name", "last_name")} | {"tags": ["python"]})
    )
    # Recruiters source people into the open jobs whose tags they share (at most eight a job, no
    # draws, so the rest stays the same): each job's board has people to move.
    for job in open_jobs:
        wanted = set(JOBS[job]["tags"])
        matching = [n for n, c in enumerate(data.candidates) if wanted & set(c["tags"])]
        data.sourced.extend((n, job) for n in matching[:8])
    # Recruiters' notes on every third person (their own draws, so the rest stays the same): a
    # free-text search reads them ("python berlin" also finds who has it only in a note).
    notes_rng = random.Random(seed + 1)  # noqa: S311 - demo data, not security
    for number in range(0, len(data.candidates), 3):
        data.notes.append((number, notes_rng.choice(_NOTES)))
    for first, last, override in names[65:68]:
        slug = _slug(first, last, override)
        data.signups.append(
            {
                "email": f"{slug}@example.org",
                "first_name": first,
                "last_name": last,
                "tags": sorted(rng.sample(_TAGS, 2)),
                "marketing_consent": True,
                "referral_code": "DEMO2026",
            }
        )
    return data


# ---------------------------------------------------------------- loading


class ApiClient:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through a proxy
        self.timeout = timeout
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.session.request(
                method, self.base_url + path, json=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise SeedError(f"{method} {path} failed: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise SeedError(f"{method} {path} answered {response.status_code}: {_problem(response)}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise SeedError(f"{method} {path} answered {response.status_code} without JSON") from exc

    def login(self, username: str, password: str) -> None:
        tokens = self.call("POST", "/auth/login", {"username": username, "password": password})
        token = (tokens or {}).get("id_token")
        if not token:
            raise SeedError("POST /auth/login answered without an id_token")
        self.token = token


def _problem(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
        if body.get("errors"):
            parts.append(str(body["errors"])[:300])
        return " - ".join(parts) or str(body)[:200]
    return str(body)[:200]


def _id(answer: Any, what: str) -> str:
    if not isinstance(answer, dict) or not answer.get("id"):
        raise SeedError(f"creating {what} answered without an id")
    return str(answer["id"])


@dataclass
class SeedSummary:
    templates: int = 0
    jobs: int = 0
    pools: int = 0
    candidates: int = 0
    memberships: int = 0
    applications: int = 0
    moves: int = 0
    signups: int = 0
    notes: int = 0
    referrals: int = 0
    interviews: int = 0
    events: int = 0


def demo_event(today: date | None = None) -> dict[str, Any]:
    """The demo's career fair: published, in person, a week ahead, 10:00 to 16:00 in Berlin."""
    day = (today or datetime.now(UTC).date()) + timedelta(days=7)
    zone = ZoneInfo("Europe/Berlin")
    starts = datetime.combine(day, time(10, 0), tzinfo=zone)
    return {
        "name": "Berlin Tech Career Fair",
        "kind": "career_fair",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue": {
            "name": "Kulturbrauerei",
            "street": "Schönhauser Allee 36",
            "postal_code": "10435",
            "city": "Berlin",
            "country": "DE",
        },
        "capacity": 120,
        "description": "Meet our engineering, data and design teams, see what we build, and talk to the "
        "recruiters of our open jobs. Bring your CV (or don't: we have your details once you register).",
        "tags": ["engineering", "data", "design"],
        "organizer": "Talent team",
    }


def _steps(data: DemoData) -> Iterator[str]:
    yield from ["template"] * len(TEMPLATES)
    yield from ["job"] * len(JOBS)
    yield from ["event"] * 2
    yield from ["pool"] * len(POOLS)
    yield from ["candidate"] * len(data.candidates)
    yield from ["membership"] * len(data.memberships)
    yield from ["application"] * len(data.applications)
    yield from ["sourced"] * len(data.sourced)
    yield from ["signup"] * len(data.signups)
    yield from ["note"] * len(data.notes)
    yield from ["referral"] * len(REFERRALS)


#: The demo employee's referrals: (job index or None, the person, why).
DEMO_EMPLOYEE = "employee@example.com"
REFERRALS: tuple[tuple[int | None, dict[str, str], str], ...] = (
    (
        0,
        {"first_name": "Ines", "last_name": "Okafor", "email": "ines.okafor@example.org"},
        "We built the billing API together; she ran its on-call.",
    ),
    (
        1,
        {"first_name": "Tomas", "last_name": "Lind", "email": "tomas.lind@example.org"},
        "A careful analyst who explains numbers well.",
    ),
    (
        None,
        {"first_name": "Mei", "last_name": "Arai", "email": "mei.arai@example.org"},
        "Great designer, looking for her next team.",
    ),
)


#: Where the demo's applications stand, in turn, so each job's board has people in every column: a
#: stage key of the default pipeline, or ``rejected`` (with the admin's first reason).
DEMO_STAGES = ("applied", "screen", "interview", "screen", "offer", "rejected", "interview", "applied")


def _spread_over_stages(api: ApiClient, job_ids: list[str], bar: Any) -> int:
    """Move the applications of each job along, in turn, to the stages of ``DEMO_STAGES`` (as a
    recruiter would, by the API's versioned moves)."""
    reasons = api.call("GET", "/v1/rejection-reasons")["reasons"]
    moves = 0
    for job_id in job_ids:
        page = api.call("GET", f"/v1/jobs/{job_id}/applications?limit=100")
        listed = sorted(page["items"], key=lambda a: a["applied_at"])
        targets = [(a, DEMO_STAGES[k % len(DEMO_STAGES)]) for k, a in enumerate(listed)]
        targets = [(a, stage) for a, stage in targets if stage != a["stage"]]
        bar.total += len(targets)  # known once the applications are in
        for application, stage in targets:
            body: dict[str, Any] = {"stage": stage, "version": application["version"]}
            if stage == "rejected":
                body["reason"] = reasons[0]
            api.call("PATCH", f"/v1/applications/{application['id']}", body)
            moves += 1
            bar.update()
    return moves


#: The demo's interview offers: wall times in this zone, this many days ahead at these hours.
DEMO_INTERVIEW_ZONE = "Europe/Berlin"
DEMO_INTERVIEW_TIMES = ((2, 10), (2, 14), (3, 11))


def _offer_interviews(api: ApiClient, job_ids: list[str], bar: Any) -> int:
    """Offer the same three times (the recruiter's calendar) to each application at the interview
    stage: the first to book one from the outbox's link takes it."""
    zone = ZoneInfo(DEMO_INTERVIEW_ZONE)
    today = datetime.now(zone).replace(minute=0, second=0, microsecond=0)
    starts = [(today + timedelta(days=d)).replace(hour=h).isoformat() for d, h in DEMO_INTERVIEW_TIMES]
    offered = 0
    for job_id in job_ids:
        page = api.call("GET", f"/v1/jobs/{job_id}/applications?stage=interview&limit=100")
        bar.total += len(page["items"])
        for application in page["items"]:
            body = {
                "slots": [{"start": start} for start in starts],
                "duration_minutes": 45,
                "timezone": DEMO_INTERVIEW_ZONE,
                "location": "Video call (the link follows)",
            }
            api.call("POST", f"/v1/applications/{application['id']}/interviews", body)
            offered += 1
            bar.update()
    return offered


def load_demo_data(
    base_url: str,
    *,
    username: str,
    password: str,
    progress: bool = True,
    seed: int = SEED,
) -> SeedSummary:
    """Create the demo email templates, jobs, pools, candidates, pool members, applications (moved
    along their pipelines, interviews offered at the interview stage) and sign-ups."""
    from tqdm import tqdm

    data = demo_data(seed)
    api = ApiClient(base_url)
    api.login(username, password)
    summary = SeedSummary()
    total = sum(1 for _ in _steps(data))
    with tqdm(
        total=total,
        desc="Loading demo data",
        unit="call",
        file=sys.stderr,
        disable=not progress,
        leave=False,
        mininterval=0.5,
    ) as bar:
        for template in TEMPLATES:
            _id(api.call("POST", "/v1/templates", template), "a template")
            summary.templates += 1
            bar.update()
        job_ids = []
        for job in JOBS:
            job_ids.append(_id(api.call("POST", "/v1/jobs", job), "a job"))
            summary.jobs += 1
            bar.update()
        event_id = _id(api.call("POST", "/v1/events", demo_event()), "an event")
        bar.update()
        api.call("POST", f"/v1/events/{event_id}/publish")
        summary.events += 1
        bar.update()
        pool_ids = []
        for pool in POOLS:
            pool_ids.append(_id(api.call("POST", "/v1/pools", pool), "a pool"))
            summary.pools += 1
            bar.update()
        candidate_ids = []
        for candidate in data.candidates:
            candidate_ids.append(_id(api.call("POST", "/v1/candidates", candidate), "a candidate"))
            summary.candidates += 1
            bar.update()
        for candidate_index, pool_index, stage in data.memberships:
            api.call(
                "POST",
                f"/v1/pools/{pool_ids[pool_index]}/members",
                {"candidate_id": candidate_ids[candidate_index], "stage": stage},
            )
            summary.memberships += 1
            bar.update()
        public = ApiClient(base_url)
        for job_index, form in data.applications:
            public.call("POST", f"/public/jobs/{job_ids[job_index]}/applications", form)
            summary.applications += 1
            bar.update()
        for candidate_index, job_index in data.sourced:
            api.call(
                "POST",
                f"/v1/jobs/{job_ids[job_index]}/applications",
                {"candidate_id": candidate_ids[candidate_index]},
            )
            summary.applications += 1
            bar.update()
        summary.moves = _spread_over_stages(api, job_ids, bar)
        summary.interviews = _offer_interviews(api, job_ids, bar)
        for form in data.signups:
            public.call("POST", "/public/talent-network", form)
            summary.signups += 1
            bar.update()
        for candidate_index, body in data.notes:
            api.call("POST", f"/v1/candidates/{candidate_ids[candidate_index]}/notes", {"body": body})
            summary.notes += 1
            bar.update()
        employee = ApiClient(base_url)
        employee.login(DEMO_EMPLOYEE, password)
        for referred_to, person, why in REFERRALS:
            job = {"job_id": job_ids[referred_to]} if referred_to is not None else {}
            employee.call("POST", "/v1/referrals", {**person, **job, "why": why})
            summary.referrals += 1
            bar.update()
    return summary
