"""Bulk actions: one change applied to many candidates, as a resumable job."""
