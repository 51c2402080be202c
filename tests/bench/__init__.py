"""Benchmarks (``make bench``), not tests: nothing here is collected by pytest.

See docs/benchmarks.md for what each figure measures and how.
"""
