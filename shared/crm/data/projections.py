"""List projections of candidates: one small item per way a recruiter can list them.

A candidate ``CAND#<id>/PROFILE`` is projected into items ``CAND#<id>/LIST#<dimension>``
that sit in index ``gsi1`` under ``gsi1pk = <dimension>``, each carrying the summary a list
shows. A filtered page is then one Query that reads only the page (plus one item to know
whether there is a next page), whatever the size of the table.

Projections are written by the stream function from the profile's stream images, in a
transaction conditioned on the profile still having the image's version, so a replayed or
out-of-order record never writes stale data and an erased candidate is never resurrected.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from crm.data import table
from crm.models import CandidateFilter, search_term

SUMMARY_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "location",
    "tags",
    "source",
    "sources",
    "pools",
    "version",
    "created_at",
    "updated_at",
)


def dimensions(candidate: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The projection items of a candidate: ``sk suffix -> (gsi1pk, gsi1sk)``."""
    cid = candidate["id"]
    newest = f"{candidate['created_at']}#{cid}"
    dims: dict[str, tuple[str, str]] = {"ALL": ("CANDS", newest)}
    dims[f"EMAIL#{candidate['email']}"] = (f"CANDEMAIL#{candidate['email']}", cid)
    for source in candidate.get("sources") or [candidate["source"]]:
        dims[f"SOURCE#{source}"] = (f"CANDSOURCE#{source}", newest)
    for tag in candidate.get("tags") or []:
        dims[f"TAG#{tag}"] = (f"CANDTAG#{tag}", newest)
    for pool in candidate.get("pools") or {}:
        dims[f"POOL#{pool}"] = (f"CANDPOOL#{pool}", newest)
    terms = {
        "first": search_term(candidate["first_name"]),
        "last": search_term(candidate["last_name"]),
        "email": candidate["email"],
    }
    for kind, term in terms.items():
        dims[f"SEARCH#{kind}"] = ("CANDSEARCH", f"{term}#{cid}")
    return dims


def projection_items(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain-python projection items (serialise with ``table.to_item``)."""
    summary = {k: candidate.get(k) for k in SUMMARY_FIELDS}
    summary["search"] = " ".join(
        [search_term(candidate["first_name"]), search_term(candidate["last_name"]), candidate["email"]]
    )
    out = []
    for suffix, (gsi1pk, gsi1sk) in dimensions(candidate).items():
        item = dict(summary)
        item.update(
            pk=f"CAND#{candidate['id']}",
            sk=f"LIST#{suffix}",
            type="candidate_list",
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
        )
        out.append(item)
    return out


def candidate_list_query(flt: CandidateFilter) -> dict[str, Any]:
    """Key condition on ``gsi1`` for the most selective filter, the rest as a filter expression.

    Priority: email, pool, tag, source, q, then all candidates newest first. A single filter
    reads exactly the page; a combination reads on until the page is full.
    """
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    filters: list[str] = []
    used: str | None = None
    forward = False
    if flt.email:
        key_condition, used = "gsi1pk = :pk", "email"
        values[":pk"] = {"S": f"CANDEMAIL#{flt.email}"}
    elif flt.pool:
        key_condition, used = "gsi1pk = :pk", "pool"
        values[":pk"] = {"S": f"CANDPOOL#{flt.pool}"}
    elif flt.tag:
        key_condition, used = "gsi1pk = :pk", "tag"
        values[":pk"] = {"S": f"CANDTAG#{flt.tag}"}
    elif flt.source:
        key_condition, used = "gsi1pk = :pk", "source"
        values[":pk"] = {"S": f"CANDSOURCE#{flt.source}"}
    elif flt.q:
        key_condition, used = "gsi1pk = :pk AND begins_with(gsi1sk, :q)", "q"
        values[":pk"] = {"S": "CANDSEARCH"}
        values[":q"] = {"S": search_term(flt.q)}
        forward = True
    else:
        key_condition = "gsi1pk = :pk"
        values[":pk"] = {"S": "CANDS"}
    if flt.pool and used != "pool":
        names["#pools"] = "pools"
        names["#fpool"] = flt.pool
        filters.append("attribute_exists(#pools.#fpool)")
    if flt.tag and used != "tag":
        filters.append("contains(tags, :ftag)")
        values[":ftag"] = {"S": flt.tag}
    if flt.source and used != "source":
        filters.append("contains(sources, :fsource)")
        values[":fsource"] = {"S": flt.source}
    if flt.q and used != "q":
        names["#search"] = "search"  # a DynamoDB reserved word
        filters.append("contains(#search, :fq)")
        values[":fq"] = {"S": search_term(flt.q)}
    query: dict[str, Any] = {"key_condition": key_condition, "values": values, "forward": forward}
    if filters:
        query["filter_expression"] = " AND ".join(filters)
    if names:
        query["names"] = names
    return query


class CandidateProjections:
    """Writes the list projections of one candidate from a stream image (the stream function's job)."""

    def apply(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
        """Bring the projections in line with ``new`` (``None``: the profile was removed).

        Returns False when the image is stale (the profile has moved on or is gone), in
        which case a later record carries the current state and nothing is written.
        """
        if new is None:
            if old:
                projected = table.query_all(
                    key_condition="pk = :pk AND begins_with(sk, :list)",
                    values={":pk": {"S": f"CAND#{old['id']}"}, ":list": {"S": "LIST#"}},
                    projection="pk, sk",
                )
                table.batch_delete([{"pk": i["pk"], "sk": i["sk"]} for i in projected])
            return True
        pk = f"CAND#{new['id']}"
        wanted = projection_items(new)
        wanted_sks = {i["sk"] for i in wanted}
        stale = [f"LIST#{s}" for s in dimensions(old)] if old else []
        operations: list[dict[str, Any]] = [{"Put": {"Item": table.to_item(i)}} for i in wanted]
        operations += [{"Delete": {"Key": table.key(pk, sk)}} for sk in stale if sk not in wanted_sks]
        check = {
            "ConditionCheck": {
                "Key": table.key(pk, "PROFILE"),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(new["version"])}},
            }
        }
        try:
            for start in range(0, len(operations), 99):
                table.transact([dict(check), *operations[start : start + 99]])
        except ClientError as exc:
            if table.error_code(exc) == "TransactionCanceledException" and table.cancellation_reasons(exc)[
                :1
            ] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True
