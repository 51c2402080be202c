"""The recruiter UI: one blueprint per area."""
