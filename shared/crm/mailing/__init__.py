"""The mail engine: MIME composition, the SES mailer, templating, the delivery ledger and suppression.
It sends what a plan says and knows no campaign or sequence.
"""
