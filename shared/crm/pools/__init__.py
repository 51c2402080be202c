"""Pools: groups of candidates, and each member's pipeline stage."""
