"""Reply addresses: ``reply+<token>@<inbound domain>``, one per conversation.

A local part has at most 64 characters and some mail systems lower-case it, so the token is not a
link's token (``crm.platform.signing.sign`` makes ~100 mixed-case characters) but fixed-width
fields in lower-case base 36, with a truncated HMAC of the signing key (``signing.mac``, its own
salt) over them:

    candidate id  25  the candidate's 128-bit id (uuid4 hex) in base 36
    conversation  16  the first 64 bits (hex) of the conversation's first email id; the
                      candidate's partition holds few emails, so the prefix finds the one
    issued day     3  days since 2020-01-01 in base 36: the address expires after
                      ``REPLY_ADDRESS_MAX_AGE_DAYS``
    mac           14  the HMAC's first ~72 bits in base 36

``reply+`` and the 58 characters make 64. A changed character, another key, a token older than the
limit or from the future is refused with ``InvalidLink``.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date

from crm.platform import clock, signing
from crm.platform.config import get_settings
from crm.platform.signing import InvalidLink

LOCAL_PREFIX = "reply+"
EPOCH = date(2020, 1, 1)
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
WIDTHS = {"candidate": 25, "conversation": 16, "day": 3, "mac": 14}
TOKEN_LENGTH = sum(WIDTHS.values())
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_TOKEN = re.compile(rf"^[0-9a-z]{{{TOKEN_LENGTH}}}$")


@dataclass(frozen=True)
class ReplyToken:
    candidate_id: str
    conversation_prefix: str
    issued: date


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(ALPHABET[rest])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError("does not fit")
    return text.rjust(width, "0")


def _mac(body: str) -> str:
    digest = int.from_bytes(signing.mac("reply", body)[:10], "big")  # 80 bits, 14 digits hold ~72
    return _base36(digest % 36 ** WIDTHS["mac"], WIDTHS["mac"])


def _today() -> date:
    return clock.now().astimezone(UTC).date()


def reply_token(candidate_id: str, conversation_id: str, *, issued: date | None = None) -> str | None:
    """The token for replies to the conversation; None for ids this scheme cannot carry (every id
    the product makes is a uuid4 hex; an imported one may not be)."""
    if not (_HEX32.match(candidate_id) and _HEX32.match(conversation_id)):
        return None
    day = ((issued or _today()) - EPOCH).days
    body = (
        _base36(int(candidate_id, 16), WIDTHS["candidate"])
        + conversation_id[: WIDTHS["conversation"]]
        + _base36(max(day, 0), WIDTHS["day"])
    )
    return body + _mac(body)


def reply_address(candidate_id: str, conversation_id: str) -> str | None:
    """``reply+<token>@<inbound domain>``; None when no inbound domain is configured."""
    domain = get_settings().inbound_mail_domain.strip().lower()
    token = reply_token(candidate_id, conversation_id) if domain else None
    return f"{LOCAL_PREFIX}{token}@{domain}" if token else None


def token_of(address: str) -> str | None:
    """The token of a reply address at the inbound domain (any case); None for other addresses."""
    domain = get_settings().inbound_mail_domain.strip().lower()
    local, _, at = address.strip().lower().rpartition("@")
    if not domain or at != domain or not local.startswith(LOCAL_PREFIX):
        return None
    return local[len(LOCAL_PREFIX) :]


def read_reply_token(token: str) -> ReplyToken:
    """What a token names, once its MAC and age are checked; ``InvalidLink`` otherwise."""
    token = token.strip().lower()
    if not _TOKEN.match(token):
        raise InvalidLink("This reply address is not one of ours.")
    body, given = token[: -WIDTHS["mac"]], token[-WIDTHS["mac"] :]
    if not hmac.compare_digest(_mac(body), given):
        raise InvalidLink("This reply address is not valid.")
    c, v = WIDTHS["candidate"], WIDTHS["conversation"]
    candidate = int(body[:c], 36)
    conversation = body[c : c + v]
    if candidate >= 1 << 128 or not re.fullmatch(r"[0-9a-f]+", conversation):
        raise InvalidLink("This reply address is not valid.")
    issued = date.fromordinal(EPOCH.toordinal() + int(body[c + v :], 36))
    age = (_today() - issued).days
    if age > get_settings().reply_address_max_age_days:
        raise InvalidLink("This reply address has expired.")
    if age < -1:
        raise InvalidLink("This reply address is not valid.")
    return ReplyToken(candidate_id=f"{candidate:032x}", conversation_prefix=conversation, issued=issued)
