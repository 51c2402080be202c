"""Recruiting events (career fairs, webinars, meetups, open days).

Registration, waitlist, reminders and check-in. Not to be confused with domain events on the
bus (``crm.platform.events``).
"""
