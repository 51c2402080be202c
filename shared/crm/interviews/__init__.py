"""Interview self-scheduling: slots offered on an application, booked through a signed link."""
