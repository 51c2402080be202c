"""CSV import of candidates: column mapping, chunked resumable runs through the one intake, reports."""
