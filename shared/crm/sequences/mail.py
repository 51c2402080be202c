"""A sequence step's email: the step's template to each enrolled person who consented to
marketing mail. A stopped enrolment gets nothing; an active one whose person can no longer be
mailed (erased, or consent withdrawn meanwhile) is stopped, so later steps are not even tried."""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render
from crm.platform import clock
from crm.platform.ids import iso
from crm.sequences.service import SequenceService
from crm.templates.service import TemplateService


def step_scope(sequence_id: str, step: int) -> str:
    """The delivery ledger's scope of one step: one email per person and step, ever."""
    return f"seq#{sequence_id}#{step}"


#: The reasons a person's enrolment stops for when a step cannot mail them.
STOP_REASONS = ("erased", "no_consent", "suppressed", "unsubscribed")


class SequencePlan(Plan):
    topic = "marketing"

    def __init__(
        self,
        sequence_id: str,
        step: int,
        *,
        sequences: SequenceService | None = None,
        templates: TemplateService | None = None,
        candidates: CandidateService | None = None,
    ) -> None:
        self.sequences = sequences or SequenceService()
        self.candidates = candidates or CandidateService()
        self.sequence = self.sequences.get(sequence_id)
        if not 0 <= step < len(self.sequence.steps):
            raise ValueError(f"sequence {sequence_id} has no step {step}")
        self.scope = step_scope(sequence_id, step)
        template = (templates or TemplateService()).get(self.sequence.steps[step].template_id)
        self.parts = {"subject": template.subject, "html": template.html, "text": template.text}

    def targets(self, recipients: list[str]) -> Verdicts:
        return person_targets(recipients, self.candidates.get_many(recipients))

    def screened(self, verdicts: Verdicts) -> Verdicts:
        enrolments = self.sequences.enrollments(self.sequence.id, list(verdicts))
        now = iso(clock.now())
        screened: Verdicts = {}
        for candidate_id, verdict in verdicts.items():
            enrolment = enrolments.get(candidate_id)
            state = enrolment.state if enrolment else None
            if state == "stopped":
                screened[candidate_id] = Skip("stopped")
                continue
            if state is None and not isinstance(verdict, Skip):
                # Taken out of the sequence after this step was queued: nothing more is sent.
                screened[candidate_id] = Skip("not_enrolled")
                continue
            if isinstance(verdict, Skip) and state == "active":
                # Why they can no longer be mailed, as the sender screened it: erased, never
                # agreed to marketing email, a suppressed address (bounce, complaint) or unsubscribed.
                reason = verdict.reason if verdict.reason in STOP_REASONS else "unsubscribed"
                self.sequences.stop(candidate_id, self.sequence.id, reason=reason, now=now)
            screened[candidate_id] = verdict
        return screened

    def render(self, target: Target) -> RenderedEmail:
        return render(self.parts, target.context)
