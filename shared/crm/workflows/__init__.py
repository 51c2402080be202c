"""What crosses slices: reactions to table changes, due work, SES feedback."""
