"""Webhooks: endpoints that integrations register, signed deliveries (Standard Webhooks) and their log."""
