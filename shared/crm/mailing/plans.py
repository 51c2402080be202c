"""What a kind of mail tells the engine: a *plan*. Each slice writes the plans of its own mail
(``crm.campaigns.mail``, ``crm.sequences.mail``, ...) and ``crm.workflows.mail_kinds`` names
which plan a mail-queue message follows; the engine (``crm.mailing.sender``) carries a plan out,
once per recipient.

A plan says:

* ``scope``: which mailing this is (the delivery ledger's key: one email per recipient and scope);
* ``topic``: the consent a recipient must have granted (marketing mail), or ``None`` for
  transactional mail, which needs none; the engine checks it, and the suppression list, at send
  time, and gives marketing mail the recipient's unsubscribe link;
* ``targets``: who each recipient is (an address, a display name, the values the email is rendered
  with and the topics they consented to) or why there is nobody to mail (``Skip``);
* ``screened``: the kind's own rules, once consent and suppression are applied (a sequence stops
  the enrolment of someone who unsubscribed meanwhile);
* ``render``: the email for one target;
* ``finished``: what to record once the message's recipients are final (a campaign's tally).

Most mail goes to people (candidates): ``person_targets`` turns people, as the candidates slice
returns them, into targets with the portal's front door in their values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crm.mailing.links import portal_url
from crm.mailing.templating import CANDIDATE_TOKENS, RenderedEmail


@dataclass(frozen=True)
class Target:
    """Someone to mail: the address, the name to show, the values to render with, and the topics
    they consented to."""

    email: str
    name: str
    context: dict[str, Any]
    consents: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Skip:
    """Nobody to mail, and why (recorded on the delivery record)."""

    reason: str


Verdicts = dict[str, Target | Skip]


class Plan(ABC):
    """What one kind of mailing sends, to whom, and what happens once recipients are final."""

    scope: str
    topic: str | None
    #: The recipients are candidates (by id): each email sent is in their email history.
    to_people: bool = True

    @abstractmethod
    def targets(self, recipients: list[str]) -> Verdicts: ...

    @abstractmethod
    def render(self, target: Target) -> RenderedEmail: ...

    def screened(self, verdicts: Verdicts) -> Verdicts:
        """The kind's own rules after consent and suppression (none by default)."""
        return verdicts

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:  # noqa: B027 - optional
        """The message's recipients and the final state of each that has one."""


class Grant(Protocol):
    @property
    def granted(self) -> bool: ...


class Person(Protocol):
    """A person as the candidates slice returns one (``Candidate``): what mail needs of them."""

    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def consents(self) -> Mapping[str, Grant]: ...


def person_target(person: Person, extra: Mapping[str, Any] | None = None) -> Target:
    """A person as a target: their values for the templates' candidate tokens, the portal's front
    door, and ``extra`` (a job, a confirmation link...)."""
    context: dict[str, Any] = {token: getattr(person, token, None) for token in CANDIDATE_TOKENS}
    context["portal_url"] = portal_url()
    context.update(extra or {})
    name = f"{person.first_name or ''} {person.last_name or ''}".strip()
    granted = frozenset(topic for topic, consent in person.consents.items() if consent.granted)
    return Target(email=person.email, name=name, context=context, consents=granted)


def person_targets(
    recipients: list[str], people: Mapping[str, Person], extra: Mapping[str, Any] | None = None
) -> Verdicts:
    """Each recipient (a person's id) as a target, or ``Skip("erased")`` when there is no such person."""
    return {
        recipient: person_target(people[recipient], extra) if recipient in people else Skip("erased")
        for recipient in recipients
    }
