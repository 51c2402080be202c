"""What the dashboard counts (bounded reads; no drawing)."""
