"""Inbound mail: candidates' replies to one-to-one email, back on their profile."""
