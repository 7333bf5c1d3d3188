"""Parity: the same event to the monolith and to each dedicated function, on one seeded
database; the same answer, and for writes the same rows written."""
