"""Unit tests: no I/O at all (no database, no sockets, no processes)."""
