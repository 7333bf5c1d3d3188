"""Use cases. Each takes a Session (owned by the caller), returns plain JSON-ready data,
and raises typed domain errors. None of them commits, closes or knows about HTTP."""
