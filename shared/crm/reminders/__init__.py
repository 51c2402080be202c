"""Reminders a recruiter sets on a candidate."""
