"""Merging two candidates into one, recorded so it can be undone, and possible duplicates."""
