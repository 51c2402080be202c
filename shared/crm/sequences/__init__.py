"""Nurture sequences: steps on delays, enrolments, stop rules."""
