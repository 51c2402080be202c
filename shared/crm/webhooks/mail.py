"""A disabled endpoint's email: the admin who created it hears that it was disabled and why.
The message's ``ref`` is ``<endpoint id>/<disabled at>`` (one email per disabling) and its
recipient the endpoint's id; the email goes to the owner's sign-in address."""

from __future__ import annotations

from crm.mailing.plans import Plan, Skip, Target, Verdicts
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform.config import get_settings
from crm.webhooks.repository import WebhookRepository

REASONS = {
    "gone": "it answered 410 Gone",
    "failing": "every delivery to it has failed for five days",
}

ENDPOINT_DISABLED = {
    "subject": "Webhook endpoint disabled: {{ url }}",
    "html": (
        "<p>The webhook endpoint <strong>{{ url }}</strong> was disabled because {{ reason }}.</p>"
        "<p>No more events are sent to it. Fix the receiver, then enable it again and redeliver "
        'what failed: <a href="{{ page_url }}">{{ page_url }}</a></p>'
    ),
    "text": (
        "The webhook endpoint {{ url }} was disabled because {{ reason }}.\n\n"
        "No more events are sent to it. Fix the receiver, then enable it again and redeliver "
        "what failed: {{ page_url }}\n"
    ),
}


class WebhookDisabledPlan(Plan):
    to_people = False  # an admin, by address
    topic = None

    def __init__(self, ref: str, *, repository: WebhookRepository | None = None) -> None:
        self.endpoint_id, _, self.at = ref.partition("/")
        self.scope = f"webhook-disabled#{self.endpoint_id}@{self.at}"
        self.repository = repository or WebhookRepository()

    def targets(self, recipients: list[str]) -> Verdicts:
        verdicts: Verdicts = {r: Skip("removed") for r in recipients}
        found = self.repository.find(self.endpoint_id)
        if self.endpoint_id not in recipients or found is None:
            return verdicts
        endpoint, stored = found
        if not stored.owner_email:
            verdicts[self.endpoint_id] = Skip("no_owner")
            return verdicts
        base = get_settings().public_base_url.rstrip("/")
        verdicts[self.endpoint_id] = Target(
            email=stored.owner_email,
            name="",
            context={
                "url": endpoint.url,
                "reason": REASONS.get(endpoint.disabled_reason or "", "it kept failing"),
                "page_url": f"{base}/ui/admin/webhooks/{endpoint.id}",
            },
        )
        return verdicts

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(ENDPOINT_DISABLED, target.context)
