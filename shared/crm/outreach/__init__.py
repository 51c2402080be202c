"""One-to-one email from a recruiter to a candidate, kept on the candidate\x27s profile."""
