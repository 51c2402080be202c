"""A campaign audience as Query pages over the candidate list projections (never a Scan).

The most selective dimension is the key (pool, else the first tag, else the source, else all
candidates); the other conditions filter. Only candidate ids are read (a projection), so a
page of 500 is a few kilobytes. Consent and suppression are checked per send, not here: a
candidate who withdraws between launch and send is then not mailed.
"""

from __future__ import annotations

from typing import Any

from crm.campaigns.models import Audience
from crm.candidates.models import CandidateFilter
from crm.candidates.projections import candidate_list_query
from crm.platform import table

PAGE_SIZE = 500


def _query(audience: Audience) -> dict[str, Any]:
    flt = CandidateFilter(
        pool=audience.pool, tag=audience.tags[0] if audience.tags else None, source=audience.source
    )
    query = candidate_list_query(flt)
    filters = [query["filter_expression"]] if "filter_expression" in query else []
    for i, tag in enumerate(audience.tags[1:]):
        filters.append(f"contains(tags, :xtag{i})")
        query["values"][f":xtag{i}"] = {"S": tag}
    params: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": "gsi1",
        "KeyConditionExpression": query["key_condition"],
        "ExpressionAttributeValues": query["values"],
        "ProjectionExpression": "id",
    }
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    if query.get("names"):
        params["ExpressionAttributeNames"] = query["names"]
    return params


def audience_page(
    audience: Audience, cursor: str | None, *, limit: int = PAGE_SIZE
) -> tuple[list[str], str | None]:
    """Candidate ids of one page, and the cursor of the next (``None``: the audience is exhausted)."""
    params = _query(audience)
    params["Limit"] = limit
    start = table.decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"})
    if start:
        params["ExclusiveStartKey"] = start
    response = table.query(**params)
    ids = [item["id"]["S"] for item in response.get("Items", [])]
    return ids, table.encode_cursor(response.get("LastEvaluatedKey"))


def audience_size(audience: Audience) -> int:
    """How many candidates match (a count-only Query, page by page)."""
    params = _query(audience)
    params.pop("ProjectionExpression")
    params["Select"] = "COUNT"
    total = 0
    while True:
        response = table.query(**params)
        total += int(response.get("Count", 0))
        last = response.get("LastEvaluatedKey")
        if not last:
            return total
        params["ExclusiveStartKey"] = last
