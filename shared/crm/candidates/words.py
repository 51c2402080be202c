"""Free-text search: the words of a person, where each was found, and what a search asks for.

A person's words come from six places, ranked by how much a match there says about the person:
the name, the email, the tags, the location, the recruiters' notes and the text of their
resumes (:data:`TIERS`). Each word is lower-cased with accents stripped; a search matches a word
when the word starts with what was typed ("pyth" finds "python"), and every word typed must match
somewhere.

The index groups a person's words by their first three letters (a *bucket*) and by place: one
entry per person, bucket and place (:func:`word_entries`). A search reads the bucket of its
longest word, best place first, and lists a person at the best place where that word matched
(:func:`is_listed`); every other word is checked against the person's own entries. Everything
here is pure: the repository (``crm.candidates.repository.words``) stores and reads the entries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from crm.platform.fields import search_term

#: Where a word was found, best first (the number is the rank kept in the index's sort key).
TIERS: dict[str, int] = {"name": 1, "email": 2, "tag": 3, "location": 4, "note": 5, "resume": 6}
#: Places whose words come from the profile (read from a list summary, no further reads).
PROFILE_TIERS = frozenset({1, 2, 3, 4})
#: Places whose words come from free text (notes, resumes): checked through the index.
TEXT_TIERS = (TIERS["note"], TIERS["resume"])
#: The letters that make a bucket; shorter words are their own bucket.
BUCKET = 3
#: Words of free text a person keeps per place (the rest of a very long resume is not indexed).
MAX_TEXT_WORDS = 3_000
#: Longest word indexed (longer runs are identifiers, hashes or URLs, not words).
MAX_WORD = 40
#: Very common English words of free text that a search would never narrow by.
STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "in"),
        *("is", "it", "of", "on", "or", "our", "that", "the", "this", "to", "was", "we", "were"),
        *("will", "with", "you", "your"),
    }
)

_WORD = re.compile(r"[^\W_][\w+#]*")


def normalise(text: str) -> str:
    """Lower-cased, accents stripped, control characters as spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in search_term(text))


def tokenize(text: str) -> list[str]:
    """The words of ``text`` in order: letters and digits (and a trailing ``+`` or ``#`` as in
    "c++" or "c#"), lower-cased without accents, each at most :data:`MAX_WORD` long."""
    return [w for w in _WORD.findall(normalise(text)) if len(w) <= MAX_WORD]


def query_words(q: str | None) -> list[str]:
    """What a search for ``q`` asks for: its words, each once. A piece with an ``@`` is an email
    address (or its start) and stays whole."""
    out: list[str] = []
    for piece in normalise(q or "").split():
        if "@" in piece:
            out.append(piece.strip(".,;:!?()[]<>\"'"))
        else:
            out.extend(tokenize(piece))
    return list(dict.fromkeys(w for w in out if w))


def lead_word(words: list[str]) -> str | None:
    """The word whose bucket a search reads: the longest of at least :data:`BUCKET` letters (the
    fewest entries to read), or None when every word is shorter."""
    long = [w for w in words if len(w) >= BUCKET]
    return max(long, key=len) if long else None


def bucket(word: str) -> str:
    return word[:BUCKET]


def profile_words(person: Mapping[str, Any]) -> dict[int, list[str]]:
    """A person's words from the profile (or a list summary), by place."""
    email = normalise(str(person.get("email") or "")).strip()
    local = email.partition("@")[0]
    out = {
        TIERS["name"]: tokenize(f"{person.get('first_name') or ''} {person.get('last_name') or ''}"),
        TIERS["email"]: ([email] if email else []) + tokenize(local),
        TIERS["tag"]: [w for tag in person.get("tags") or [] for w in tokenize(str(tag))],
        TIERS["location"]: tokenize(str(person.get("location") or "")),
    }
    return {tier: list(dict.fromkeys(words)) for tier, words in out.items()}


def text_words(texts: Iterable[str]) -> list[str]:
    """The distinct words of free text, stop words left out, at most :data:`MAX_TEXT_WORDS`."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in tokenize(text):
            if word not in STOP_WORDS:
                seen[word] = None
                if len(seen) >= MAX_TEXT_WORDS:
                    return list(seen)
    return list(seen)


def all_words(
    person: Mapping[str, Any], notes: Iterable[str], resumes: Iterable[str]
) -> dict[int, list[str]]:
    """Every word of a person, by place."""
    words = profile_words(person)
    words[TIERS["note"]] = text_words(notes)
    words[TIERS["resume"]] = text_words(resumes)
    return words


def word_entries(words_by_tier: Mapping[int, list[str]]) -> dict[tuple[str, int], dict[str, list[str]]]:
    """The index entries of a person: ``(bucket, tier) -> {"words": [...], "above": [...]}``,
    where ``above`` holds the person's words of the same bucket found at a better place (so a
    search lists the person once, at the best place)."""
    entries: dict[tuple[str, int], dict[str, list[str]]] = {}
    seen_in_bucket: dict[str, list[str]] = {}
    for tier in sorted(words_by_tier):
        grouped: dict[str, list[str]] = {}
        for word in words_by_tier[tier]:
            grouped.setdefault(bucket(word), []).append(word)
        for key, words in grouped.items():
            entries[(key, tier)] = {"words": sorted(words), "above": sorted(set(seen_in_bucket.get(key, [])))}
        for key, words in grouped.items():
            seen_in_bucket.setdefault(key, []).extend(words)
    return entries


def starts_any(words: Iterable[str], typed: str) -> bool:
    """Whether one of ``words`` starts with what was typed."""
    return any(w.startswith(typed) for w in words)


def is_listed(entry: Mapping[str, Any], lead: str) -> bool:
    """Whether a search whose longest word is ``lead`` lists the person at this entry: a word
    of the entry starts with it, and none found at a better place does."""
    return starts_any(entry.get("words") or [], lead) and not starts_any(entry.get("above") or [], lead)


def matches_profile(person: Mapping[str, Any], typed: str) -> bool:
    """Whether a word of the person's profile (name, email, tags, location) starts with ``typed``."""
    return any(starts_any(words, typed) for words in profile_words(person).values())


def best_tier(words_by_tier: Mapping[int, list[str]], typed: str) -> int | None:
    """The best place where a word starts with ``typed`` (None: nowhere)."""
    for tier in sorted(words_by_tier):
        if starts_any(words_by_tier[tier], typed):
            return tier
    return None


def matches_all(words_by_tier: Mapping[int, list[str]], q: str | None) -> bool:
    """Whether every word of ``q`` starts a word of the person, somewhere: the brute-force form of
    the search the index answers (tests compare the two)."""
    return all(best_tier(words_by_tier, w) is not None for w in query_words(q))


def newest_first(created_at: str) -> str:
    """A sort-key part that orders later ``created_at`` values first (digits reversed)."""
    digits = "".join(c for c in created_at if c.isdigit())[:17].ljust(17, "0")
    return "".join(str(9 - int(c)) for c in digits)
