"""Jobs: open and closed positions."""
