"""Data exports: the monolith, the queue, the worker and the blob store, with moto."""
