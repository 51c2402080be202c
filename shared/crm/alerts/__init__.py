"""Job alerts: double opt-in subscriptions matched to jobs that open."""
