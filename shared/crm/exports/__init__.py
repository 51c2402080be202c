"""Exports of the whole account (or a filtered list) as CSV and JSON Lines, streamed to S3."""
