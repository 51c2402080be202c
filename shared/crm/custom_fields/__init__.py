"""Custom fields that admins define for candidates and applications."""
