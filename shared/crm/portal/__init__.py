"""Candidate self-service: the portal, unsubscribe links."""
