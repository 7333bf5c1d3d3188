"""Data exports: a user's profile, articles, comments, favorites and follows as one JSON
document, built off the request path and downloaded by its owner.

- `document`: the JSON document, streamed in keyset batches.
- `lifecycle`: an export's states (pending, done, failed), the moves between them and the
  reasons its owner reads.
- `message`: the queue message that names an export, and PoisonMessage.
- `runner`: turns a pending export into a stored document, idempotently; what a failed
  attempt leads to.
- `settings`: EXPORTS_*, resolved on the feature's first use.
- `backend`: what the monolith calls: request, show, download, in `sqs` or `inline` mode.

Where documents are kept and how messages travel are the platform's thin adapters
(app/platform/blobs.py, app/platform/queues.py); the web layers (legacy/exports.py,
app/functions/export_worker.py) only call into this package.
"""
