"""The /v1 JSON API: one blueprint per slice."""
