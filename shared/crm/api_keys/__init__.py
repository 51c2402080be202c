"""Integration API keys: stored as hashes, scoped, revocable."""
