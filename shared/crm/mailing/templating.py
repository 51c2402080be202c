"""Recruiter-written email templates: checked at save, rendered in a sandbox.

Templates use ``{{ first_name }}``-style tokens (Jinja2 syntax). They are rendered by Jinja2's
``SandboxedEnvironment``, so a template cannot reach Python internals
(``{{ ''.__class__ }}`` is refused), and every candidate value in the HTML part is
autoescaped. The subject becomes a mail header, so line breaks are removed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crm.mailing.compose import Attachment
from crm.platform.errors import ValidationFailed

#: Tokens a template may use: candidate fields, plus links and the job where relevant.
CANDIDATE_TOKENS = frozenset(
    {"first_name", "last_name", "email", "phone", "location", "linkedin_url", "tags", "source"}
)
CONTEXT_TOKENS = frozenset({"unsubscribe_url", "portal_url", "job"})
TOKENS = CANDIDATE_TOKENS | CONTEXT_TOKENS
PARTS = ("subject", "html", "text")

SAMPLE_CONTEXT: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 0000 0000",
    "location": "London",
    "linkedin_url": "https://www.linkedin.com/in/ada",
    "tags": ["python", "math"],
    "source": "talent-network",
    "unsubscribe_url": "https://crm.example.com/public/unsubscribe?token=sample",
    "portal_url": "https://crm.example.com/portal",
    "job": {
        "id": "sample",
        "title": "Analytical Engineer",
        "location": "London",
        "department": "Engineering",
    },
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    #: Where replies go (a one-to-one email's reply address); None: to the From.
    reply_to: str | None = None
    #: Files that go with the email (an .ics invitation, an inline QR code image).
    attachments: tuple[Attachment, ...] = ()


@lru_cache(maxsize=4)
def _environment(autoescape: bool, strict: bool = False) -> Any:
    """The sandbox. ``strict`` (used when checking a template) turns what the sandbox would
    quietly render as empty (an unsafe attribute, an unknown name) into an error."""
    from jinja2 import StrictUndefined, Undefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        autoescape=autoescape,
        keep_trailing_newline=True,
        undefined=StrictUndefined if strict else Undefined,
    )


#: A template is one DynamoDB item (at most 400 KB): its parts together fit in this many bytes.
MAX_TEMPLATE_BYTES = 350_000


def check_template(parts: dict[str, str]) -> None:
    """Refuse, with a 422 naming the part and line, a template that does not parse, uses a
    token that does not exist, or reaches for what the sandbox forbids; and one too large to
    store, naming its largest part."""
    from jinja2 import TemplateSyntaxError, meta
    from jinja2.exceptions import SecurityError, UndefinedError

    sizes = {part: len(source.encode("utf-8", "surrogatepass")) for part, source in parts.items()}
    if sum(sizes.values()) > MAX_TEMPLATE_BYTES:
        largest = max(sizes, key=lambda part: sizes[part])
        raise ValidationFailed(
            "The template is too large to store.",
            errors=[
                {
                    "field": largest,
                    "message": f"the parts are {sum(sizes.values())} bytes of UTF-8 together; "
                    f"at most {MAX_TEMPLATE_BYTES} fit",
                }
            ],
        )
    errors: list[dict[str, str]] = []
    for part, source in parts.items():
        environment = _environment(part == "html", strict=True)
        try:
            parsed = environment.parse(source)
        except TemplateSyntaxError as exc:
            errors.append({"field": part, "message": f"line {exc.lineno}: {exc.message}"})
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - TOKENS)
        if unknown:
            errors.append({"field": part, "message": f"unknown token(s): {', '.join(unknown)}"})
            continue
        try:
            environment.from_string(source).render(SAMPLE_CONTEXT)
        except SecurityError as exc:
            errors.append({"field": part, "message": f"not allowed: {exc}"})
        except (UndefinedError, TypeError, ValueError, ArithmeticError) as exc:
            errors.append({"field": part, "message": f"cannot be rendered: {exc}"})
    if errors:
        raise ValidationFailed("The template cannot be used as it is.", errors=errors)


@lru_cache(maxsize=256)
def _compiled(source: str, autoescape: bool) -> Any:
    """A template compiled once per process: a campaign renders the same source for every
    recipient, and compiling is a hundred times dearer than rendering (docs/benchmarks.md)."""
    return _environment(autoescape).from_string(source)


def render(parts: dict[str, str], context: dict[str, Any]) -> RenderedEmail:
    """Render the three parts for one recipient. Unknown or missing values render empty."""
    values = {k: v for k, v in context.items() if k in TOKENS and v is not None}
    return _render(parts, values)


def _render(parts: dict[str, str], values: dict[str, Any]) -> RenderedEmail:
    subject = _compiled(parts["subject"], False).render(values)
    return RenderedEmail(
        subject=" ".join(subject.split()),  # a header: no line breaks, no runs of spaces
        html=_compiled(parts["html"], True).render(values),
        text=_compiled(parts["text"], False).render(values),
    )


def preview_context(candidate: dict[str, Any]) -> dict[str, Any]:
    """What a preview shows: the candidate's own values, and sample links (a real send signs
    its own unsubscribe and portal links)."""
    context = {k: candidate.get(k) for k in CANDIDATE_TOKENS}
    context["unsubscribe_url"] = SAMPLE_CONTEXT["unsubscribe_url"]
    context["portal_url"] = SAMPLE_CONTEXT["portal_url"]
    return context


def render_checked(parts: dict[str, str], context: dict[str, Any]) -> RenderedEmail:
    """``render``, with anything a template does at render time reported as a 422."""
    from jinja2 import TemplateError

    try:
        return render(parts, context)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed(
            "The template cannot be rendered for this candidate.",
            errors=[{"field": "template", "message": str(exc)}],
        ) from exc


def render_builtin(parts: dict[str, str], context: dict[str, Any]) -> RenderedEmail:
    """Render one of the product's own emails (job alert, confirmation, reminder). The same
    sandbox and autoescaping as recruiters' templates, with the context as given."""
    return _render(parts, context)
