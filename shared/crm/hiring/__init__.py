"""Hiring: an application's way through its job's pipeline (stages, moves, rejection reasons),
interview feedback, and who outside the recruiters may take part (a job's hiring team)."""
