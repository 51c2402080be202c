"""The product's own emails (not recruiter-written): job alerts, alert confirmations, reminders,
portal links.
Rendered by ``crm.mailing.templating.render_builtin``; every value is escaped in the HTML part."""

from __future__ import annotations

JOB_ALERT = {
    "subject": "New job: {{ job.title }}{% if job.location %} ({{ job.location }}){% endif %}",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>A job that matches your alert has just opened:</p>"
        '<p><strong><a href="{{ job.url }}">{{ job.title }}</a></strong>'
        "{% if job.location %}<br>{{ job.location }}{% endif %}"
        "{% if job.department %}<br>{{ job.department }}{% endif %}</p>"
        '<p><a href="{{ unsubscribe_url }}">Stop job alerts</a></p>'
    ),
    "text": (
        "Hello {{ first_name }},\n\nA job that matches your alert has just opened:\n\n"
        "{{ job.title }}{% if job.location %} - {{ job.location }}{% endif %}\n{{ job.url }}\n\n"
        "Stop job alerts: {{ unsubscribe_url }}\n"
    ),
}

ALERT_CONFIRMATION = {
    "subject": "Please confirm your job alerts",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>Someone (we hope you) asked for job alerts for this address"
        "{% if tags %} about {{ tags | join(', ') }}{% endif %}"
        "{% if location %} in {{ location }}{% endif %}.</p>"
        '<p><a href="{{ confirm_url }}">Yes, send me job alerts</a></p>'
        "<p>If it was not you, ignore this email: nothing will be sent.</p>"
    ),
    "text": (
        "Hello {{ first_name }},\n\nSomeone (we hope you) asked for job alerts for this address"
        "{% if tags %} about {{ tags | join(', ') }}{% endif %}"
        "{% if location %} in {{ location }}{% endif %}.\n\n"
        "Confirm: {{ confirm_url }}\n\nIf it was not you, ignore this email: nothing will be sent.\n"
    ),
}

REMINDER = {
    "subject": "Reminder: {{ candidate_name }}",
    "html": (
        "<p>You asked to be reminded about "
        '<a href="{{ candidate_url }}">{{ candidate_name }}</a>:</p>'
        "<blockquote>{{ note }}</blockquote>"
        "<p>Due {{ due_at }}</p>"
    ),
    "text": (
        "You asked to be reminded about {{ candidate_name }} ({{ candidate_url }}):\n\n"
        "{{ note }}\n\nDue {{ due_at }}\n"
    ),
}

PORTAL_LINK = {
    "subject": "Your link to see and manage your details",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>Someone (we hope you) asked for a link to see the details we hold about you, "
        "correct them, choose which emails you get, download them or erase them.</p>"
        '<p><a href="{{ portal_url }}">See and manage my details</a></p>'
        "<p>The link works for one hour. If it was not you, ignore this email: nothing changes.</p>"
    ),
    "text": (
        "Hello {{ first_name }},\n\nSomeone (we hope you) asked for a link to see the details we hold "
        "about you, correct them, choose which emails you get, download them or erase them.\n\n"
        "{{ portal_url }}\n\nThe link works for one hour. If it was not you, ignore this email: "
        "nothing changes.\n"
    ),
}
