"""Recruiter API: campaigns (audience, launch now or at send_at, live stats)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.campaigns.models import (
    AudienceSize,
    Campaign,
    CampaignCreate,
    CampaignLaunch,
    CampaignTest,
    CampaignTestSent,
)
from crm.campaigns.service import CampaignService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/campaigns",
    "GET",
    summary="List campaigns, newest first",
    tag="engagement",
    permission="read",
    query=PageQuery,
    response=Campaign,
    paginated=True,
)
def list_campaigns(call: Call) -> dict[str, Any]:
    items, next_cursor = CampaignService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/campaigns",
    "POST",
    summary="Create a campaign (a draft until launched); 422 naming a missing template or pool",
    tag="engagement",
    permission="write",
    body=CampaignCreate,
    response=Campaign,
    status=201,
)
def create(call: Call) -> Campaign:
    return CampaignService().create(call.body)


@endpoint(
    bp,
    "/v1/campaigns/{campaign_id}",
    "GET",
    summary="Get a campaign with its status and live stats",
    tag="engagement",
    permission="read",
    response=Campaign,
    errors=(404,),
)
def get_campaign(call: Call, campaign_id: str) -> Campaign:
    return CampaignService().get(campaign_id)


@endpoint(
    bp,
    "/v1/campaigns/{campaign_id}/audience",
    "GET",
    summary="How many candidates the campaign's audience has (before consent and suppression)",
    tag="engagement",
    permission="read",
    response=AudienceSize,
    errors=(404,),
)
def get_audience(call: Call, campaign_id: str) -> AudienceSize:
    campaign = CampaignService().get(campaign_id)
    return AudienceSize(audience=campaign.audience, candidates=CampaignService().audience_size(campaign))


@endpoint(
    bp,
    "/v1/campaigns/{campaign_id}/launch",
    "POST",
    summary='Launch at its send_at (or now), at a body\'s send_at, or now ({"now": true}); '
    "launching again changes nothing",
    tag="engagement",
    permission="write",
    body=CampaignLaunch,
    body_optional=True,
    response=Campaign,
    status=202,
    errors=(404, 422),
)
def launch_campaign(call: Call, campaign_id: str) -> Campaign:
    options: CampaignLaunch = call.body
    return CampaignService().launch(campaign_id, at=options.send_at, now=options.now).campaign


@endpoint(
    bp,
    "/v1/campaigns/{campaign_id}/cancel",
    "POST",
    summary="Cancel a draft or a scheduled campaign (its scheduled send never happens); 409 once it "
    "is sending, sent or cancelled",
    tag="engagement",
    permission="write",
    response=Campaign,
    errors=(404, 409),
)
def cancel_campaign(call: Call, campaign_id: str) -> Campaign:
    return CampaignService().cancel(campaign_id)


@endpoint(
    bp,
    "/v1/campaigns/{campaign_id}/test",
    "POST",
    summary='Send the campaign\'s email to yourself, "[Test] " in front of the subject, rendered for '
    "sample values or a candidate_id; counted nowhere (409 for an API key: it has no address)",
    tag="engagement",
    permission="write",
    body=CampaignTest,
    body_optional=True,
    response=CampaignTestSent,
    status=202,
    errors=(404, 409, 422),
)
def test_campaign(call: Call, campaign_id: str) -> CampaignTestSent:
    body: CampaignTest = call.body
    email = call.principal.email if call.principal is not None else None
    return CampaignService().send_test(campaign_id, to=email, candidate_id=body.candidate_id)
