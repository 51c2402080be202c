"""Mail consumer: sends each recipient of a mail-queue message one email, exactly once
(``crm.mailing.sender``). A message SES throttled is backed off (its visibility timeout
grows with each receive) and retried; partial batch failures are reported; a message that
keeps failing lands in the dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.mailing.messages import MailJob
from crm.mailing.sender import MailSender, RecipientsBusy, Throttled
from crm.platform.config import get_settings
from crm.platform.queues import back_off
from crm.workflows.mail_kinds import plan_for

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)
#: The engine with every kind of mail and the real ports (SES, the ledger); one per execution environment.
sender = MailSender(plan_for)


def record_handler(record: SQSRecord) -> None:
    job = MailJob.model_validate(json.loads(record.body))
    try:
        outcome = sender.process(job)
    except (Throttled, RecipientsBusy) as exc:
        back_off(
            record.event_source_arn, record.receipt_handle, int(record.attributes.approximate_receive_count)
        )
        logger.info("mail message retried later", extra={"kind": job.kind, "reason": type(exc).__name__})
        raise
    # Counts and ids only: addresses are personal data and never logged.
    logger.info(
        "mail sent",
        extra={
            "kind": job.kind,
            "ref": job.ref,
            "sent": len(outcome.sent),
            "skipped": len(outcome.skipped),
            "failed": len(outcome.failed),
            "already_done": outcome.already_done,
        },
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
