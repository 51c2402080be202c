"""Candidate Relationship Management: the domain and data layer every function uses."""
