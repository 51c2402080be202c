"""Runtime configuration, read once per cold start from the environment.

Every variable the product reads is named here, and nowhere else reads the environment;
``events/env.json`` and the SAM template set the same names. A deployed function that lacks a
required variable fails at cold start, naming it (``MissingConfiguration``). The local stack
(``crm dev``) sets every variable itself, from the resources it provisions: nothing here knows
the local stack's names.
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """Validated at cold start. A plain pydantic model over ``os.environ`` (rather than
    pydantic-settings) keeps ~80 ms off every cold start."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(min_length=1, alias="TABLE_NAME")
    resume_bucket: str = Field(min_length=1, alias="RESUME_BUCKET")
    event_bus_name: str = Field(min_length=1, alias="EVENT_BUS_NAME")
    user_pool_id: str = Field(min_length=1, alias="USER_POOL_ID")
    user_pool_client_id: str = Field(min_length=1, alias="USER_POOL_CLIENT_ID")
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    # Set only in the local stack and in tests: every client then talks to it.
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")
    # Comma-separated origins allowed to call the public endpoints from a browser.
    cors_origins: str = Field(default="", alias="CORS_ORIGINS")
    # Largest JSON or urlencoded body accepted, and largest multipart body.
    max_form_bytes: int = Field(default=64 * 1024, alias="MAX_FORM_BYTES")
    max_multipart_bytes: int = Field(default=6 * 1024 * 1024, alias="MAX_MULTIPART_BYTES")
    max_resume_bytes: int = Field(default=5 * 1024 * 1024, alias="MAX_RESUME_BYTES")
    # Secrets Manager secret that signs unsubscribe and portal links.
    signing_secret_arn: str = Field(min_length=1, alias="SIGNING_SECRET_ARN")
    # Where candidates reach the public pages (links in emails).
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    idempotency_ttl_seconds: int = Field(default=24 * 3600, alias="IDEMPOTENCY_TTL_SECONDS")
    # The From of every email (its address must be a verified SES identity).
    mail_from: str = Field(min_length=1, alias="MAIL_FROM")
    # The company's name on the career site's structured data; empty: MAIL_FROM's display name.
    employer_name: str = Field(default="", alias="EMPLOYER_NAME")
    # SES configuration set named on each send (event publishing); none when unset.
    ses_configuration_set: str | None = Field(default=None, alias="SES_CONFIGURATION_SET")
    # Engagement: audiences are paged onto the dispatch queue, emails go out from the mail queue.
    dispatch_queue_url: str = Field(min_length=1, alias="DISPATCH_QUEUE_URL")
    dispatch_queue_arn: str = Field(min_length=1, alias="DISPATCH_QUEUE_ARN")
    mail_queue_url: str = Field(min_length=1, alias="MAIL_QUEUE_URL")
    # EventBridge Scheduler: one-time schedules for campaigns launched with a send_at.
    schedule_group: str = Field(default="default", alias="SCHEDULE_GROUP")
    scheduler_role_arn: str = Field(min_length=1, alias="SCHEDULER_ROLE_ARN")
    # Sends per second one mail worker allows itself (0: no pacing; SES throttling is retried anyway).
    mail_send_rate: float = Field(default=0.0, ge=0, alias="MAIL_SEND_RATE")
    # How long a mail worker holds a mail message's lock: longer than any one attempt (the worker's
    # timeout), shorter than SQS's redelivery (the visibility timeout), so a crashed worker's message
    # is taken over.
    mail_claim_lease_seconds: int = Field(default=300, ge=1, alias="MAIL_CLAIM_LEASE_SECONDS")
    # Inbound mail: replies to one-to-one emails come back to reply+<token>@<this domain> (SES
    # receiving writes them to the inbound bucket); empty: emails carry no Reply-To.
    inbound_mail_domain: str = Field(default="", alias="INBOUND_MAIL_DOMAIN")
    inbound_mail_bucket: str = Field(default="", alias="INBOUND_MAIL_BUCKET")
    # Largest inbound message kept (larger ones are quarantined), and largest attachment kept.
    max_inbound_mail_bytes: int = Field(default=10 * 1024 * 1024, ge=1, alias="MAX_INBOUND_MAIL_BYTES")
    max_reply_attachment_bytes: int = Field(default=5 * 1024 * 1024, ge=1, alias="MAX_REPLY_ATTACHMENT_BYTES")
    # How long a reply address stays valid after the email that carried it (days).
    reply_address_max_age_days: int = Field(default=365, ge=1, alias="REPLY_ADDRESS_MAX_AGE_DAYS")
    # How long audit-log entries are kept (days; DynamoDB's TTL removes them after that).
    audit_retention_days: int = Field(default=730, ge=30, le=3650, alias="AUDIT_RETENTION_DAYS")
    # CSV import (crm.imports): the import worker's queue; empty where no worker runs.
    import_queue_url: str = Field(default="", alias="IMPORT_QUEUE_URL")
    # Largest CSV (and resume ZIP) an import accepts, in bytes.
    max_import_bytes: int = Field(default=512 * 1024 * 1024, ge=1, alias="MAX_IMPORT_BYTES")
    # Set by ``crm dev`` only: where its SMTP server for inbound mail listens (host:port).
    local_smtp_address: str | None = Field(default=None, alias="CRM_LOCAL_SMTP")
    # Set by ``crm dev`` only (never by the template): the local stack's own routes and pages.
    local_stack: bool = Field(default=False, alias="CRM_LOCAL_STACK")
    # Webhooks (slice webhooks): the delivery queue (bus events, deliveries and retries), and
    # whether http to loopback is allowed (set by ``crm dev`` and tests only, never by the template).
    webhook_queue_url: str = Field(default="", alias="WEBHOOK_QUEUE_URL")
    webhook_allow_loopback_http: bool = Field(default=False, alias="WEBHOOK_ALLOW_LOOPBACK_HTTP")
    # Exports (slice exports): the export queue, whose worker writes each export's ZIP to S3.
    export_queue_url: str = Field(default="", alias="EXPORT_QUEUE_URL")

    @property
    def employer(self) -> str:
        """The hiring organisation's name: EMPLOYER_NAME, else the From's display name."""
        return self.employer_name.strip() or parseaddr(self.mail_from)[0].strip()

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def token_issuer(self) -> str:
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where the user pool's signing keys are fetched from.

        moto names the real AWS issuer in its tokens but serves the keys on its own
        endpoint, so the keys come from the configured endpoint when there is one.
        """
        base = (self.aws_endpoint_url or "").rstrip("/")
        if base:
            return f"{base}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.token_issuer}/.well-known/jwks.json"


class MissingConfiguration(RuntimeError):
    """A required variable is missing or invalid: the message names each."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = sorted({str(e["loc"][0]) for e in exc.errors(include_url=False) if e.get("loc")})
        raise MissingConfiguration(
            f"the environment lacks or has invalid values for: {', '.join(names)}"
        ) from None


#: The local stack's clock offset file (``crm dev`` sets it; never set in AWS).
LOCAL_CLOCK_FILE_ENV = "CRM_LOCAL_CLOCK_FILE"


def local_clock_file() -> str | None:
    """Where the local stack keeps its clock's offset; read at every call, since ``crm dev`` and
    tests point it at a file of their own while running."""
    return os.environ.get(LOCAL_CLOCK_FILE_ENV) or None


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
