"""Running a period."""
