"""Email templates written by recruiters."""
