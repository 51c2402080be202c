"""Putting messages on SQS queues, ten per request, retrying the entries SQS did not take."""

from __future__ import annotations

import time

from crm.platform import aws


class QueueUnavailable(RuntimeError):
    """SQS kept refusing some entries; the caller fails and its own message is retried."""


def send_messages(queue_url: str, bodies: list[str]) -> None:
    if not queue_url:
        raise RuntimeError("the queue URL is not configured (see infra/template.yaml)")
    sqs = aws.client("sqs")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        for attempt in range(6):
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed = {f["Id"] for f in response.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if not entries:
                break
            time.sleep(0.05 * 2**attempt)
        if entries:
            raise QueueUnavailable(f"SQS did not accept {len(entries)} message(s)")


def send_message(queue_url: str, body: str) -> None:
    send_messages(queue_url, [body])


def queue_url_from_arn(arn: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>`` -> the queue's URL (asked of SQS: works locally too)."""
    account, name = arn.split(":")[4:6]
    response = aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
    return str(response["QueueUrl"])


def back_off(queue_arn: str, receipt_handle: str, receive_count: int) -> None:
    """Make a message that must be retried visible again later, more so on each receive
    (30 s, 60 s, ... up to 15 minutes), rather than after the full visibility timeout."""
    delay = min(30 * 2 ** max(receive_count - 1, 0), 900)
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queue_url_from_arn(queue_arn), ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
    except Exception:
        return
