"""Recruiter-written templates: tokens, escaping, the sandbox, and errors that name the line."""

import pytest

from crm.mailing.templating import check_template, render
from crm.platform.errors import ValidationFailed

PARTS = {
    "subject": "Hello {{ first_name }}",
    "html": "<p>Hi {{ first_name }} {{ last_name }} from {{ location }}</p>"
    '<a href="{{ unsubscribe_url }}">stop</a>',
    "text": "Hi {{ first_name }} {{ last_name }}\nStop: {{ unsubscribe_url }}",
}


def test_tokens_are_filled_and_missing_values_render_empty():
    out = render(
        PARTS,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "location": None,
            "unsubscribe_url": "https://x.example/u?t=1&s=2",
        },
    )
    assert out.subject == "Hello Ada"
    assert out.html == '<p>Hi Ada Lovelace from </p><a href="https://x.example/u?t=1&amp;s=2">stop</a>'
    assert out.text == "Hi Ada Lovelace\nStop: https://x.example/u?t=1&s=2"


def test_hostile_candidate_values_are_escaped_in_html_only():
    hostile = '<script>alert("x")</script>'
    out = render(PARTS, {"first_name": hostile, "last_name": '" onmouseover="steal()'})
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert '" onmouseover' not in out.html and "&#34; onmouseover" in out.html
    assert hostile in out.text  # plain text is not HTML


def test_subject_cannot_inject_headers():
    out = render(PARTS, {"first_name": "Ada\r\nBcc: everyone@example.com"})
    assert "\n" not in out.subject and "\r" not in out.subject


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ first_name.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_python_internals(source):
    with pytest.raises(ValidationFailed) as info:
        check_template({**PARTS, "html": source})
    assert info.value.errors[0]["field"] == "html"


def test_a_template_that_does_not_parse_names_the_part_and_line():
    with pytest.raises(ValidationFailed) as info:
        check_template({**PARTS, "text": "line one\nline two {% endif %}\nline three"})
    [error] = info.value.errors
    assert error["field"] == "text" and error["message"].startswith("line 2")


def test_unknown_tokens_are_named():
    with pytest.raises(ValidationFailed) as info:
        check_template({**PARTS, "subject": "Hi {{ first_nme }} {{ salary }}"})
    assert info.value.errors == [{"field": "subject", "message": "unknown token(s): first_nme, salary"}]


def test_a_good_template_passes_the_check():
    check_template(PARTS)
    check_template(
        {**PARTS, "html": "{% if job %}<h1>{{ job.title }}</h1>{% endif %}{{ tags | join(', ') }}"}
    )
