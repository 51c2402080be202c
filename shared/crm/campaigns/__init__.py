"""Campaigns: one template to an audience, launched now or at a time."""
