"""Referrals: who referred whom, the referrer's link and code, and the status the referrer sees."""
