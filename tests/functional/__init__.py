"""Functional tests: the monolith and the dedicated functions' handlers, driven in
process with fakes for AWS, on SQLite and (with `make test`) on MariaDB."""
