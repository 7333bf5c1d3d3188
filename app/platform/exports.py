"""Data exports off the request path: the queue message, where documents are stored,
and the runner that turns a pending export into a stored document.

Two modes (ExportSettings.mode):
- `sqs`: the monolith sends {"exportId": ...} to the exports queue after the request
  committed; the export worker (app/functions/export_worker.py) runs ExportRunner against
  S3; the owner downloads through a short-lived presigned GET URL.
- `inline` (local and test): the monolith runs the same ExportRunner in-process right after
  the request committed, against a folder (instance/exports/ by default), and serves the
  file itself.

Either way the document comes from app.core.services.exports.export_document.

Idempotency does not rest on the database alone. The object key is derived from the ids,
the store writes a key only if it is absent (S3 `If-None-Match: *`; a hard link locally),
and the export is marked done with a conditional UPDATE (pending -> done): a duplicate
delivery skips, and of two racing workers one writes the object and the other adopts it.

boto3 is imported only when an AWS client is first needed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.core.services import exports
from app.platform.db import Database
from app.platform.observability import logger
from app.platform.settings import ExportSettings

CONTENT_TYPE = "application/json; charset=utf-8"
CONTENT_DISPOSITION = 'attachment; filename="conduit-export.json"'
# Each multipart part is held in memory once while it is sent. S3's minimum is 5 MiB
# (except for the last part); 10,000 parts of 8 MiB allow documents up to ~78 GiB.
PART_SIZE = 8 * 1024 * 1024

# What the owner reads on GET /api/user/exports/<id> when an export failed.
GAVE_UP_REASON = (
    "your export could not be built after {attempts} attempts; "
    "please try again later by requesting a new export"
)
NOT_QUEUED_REASON = "your export could not be started; please request a new export"
INLINE_FAILED_REASON = "your export could not be built; please request a new export"

# What ExportRunner.run did.
BUILT = "done"  # this run stored the document (or adopted one) and marked the export done
SKIPPED = "skipped"  # the export was already done: a duplicate delivery
RACED = "already-done"  # another worker marked it done while this one was working


class PoisonMessage(ValueError):
    """A queue message that can never be processed (not JSON, no valid export id, or an
    export that does not exist)."""


class QueueUnavailable(RuntimeError):
    """The message could not be sent; the export will not be built."""


def encode_message(export_id: str) -> str:
    return json.dumps({"exportId": export_id}, separators=(",", ":"))


def decode_message(body: str) -> str:
    """The export id of a queue message; PoisonMessage when it has none."""
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        raise PoisonMessage("message body is not JSON") from None
    export_id = payload.get("exportId") if isinstance(payload, dict) else None
    if not exports.is_export_id(export_id):
        raise PoisonMessage("message has no valid exportId")
    assert isinstance(export_id, str)
    return export_id


# -- AWS clients ---------------------------------------------------------------------------


def _aws_client(service: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    # A fresh session per client: boto3's default session is not thread-safe, and the
    # monolith serves requests on threads locally. Region and credentials come from the
    # usual places (AWS_REGION on Lambda; AWS_ENDPOINT_URL for a local emulator).
    session = boto3.session.Session()
    return session.client(
        service, config=Config(retries={"mode": "standard", "max_attempts": 3}, **config)
    )


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _client_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


# -- where documents are stored ------------------------------------------------------------


class ExportStore(Protocol):
    def exists(self, key: str) -> bool: ...

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> bool:
        """Store the chunks as one object at `key` unless it already exists.
        True when this call created it, False when the key was already taken."""
        ...


class S3ExportStore:
    """A private bucket; objects are encrypted (SSE-KMS with the given key, else SSE-S3)
    and uploaded in parts as the document is produced, so memory holds one part."""

    def __init__(
        self,
        bucket: str,
        *,
        kms_key_id: str = "",
        client: Any = None,
        part_size: int = PART_SIZE,
    ) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.part_size = part_size
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _aws_client(
                "s3", signature_version="s3v4", connect_timeout=3, read_timeout=60
            )
        return self._client

    def _object_attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "ContentType": CONTENT_TYPE,
            "ContentDisposition": CONTENT_DISPOSITION,
        }
        if self.kms_key_id:
            attributes |= {
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": self.kms_key_id,
                "BucketKeyEnabled": True,
            }
        else:
            attributes["ServerSideEncryption"] = "AES256"
        return attributes

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except _client_errors() as error:
            if _error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> bool:
        # One growing buffer per part, handed to the SDK as is (no joined copy).
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        completed = False
        try:
            for chunk in chunks:
                buffer += chunk
                if len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=key, **self._object_attributes()
                        )["UploadId"]
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, buffer))
                    buffer = bytearray()
            if upload_id is None:
                # Small enough for one request.
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=bytes(buffer),
                    IfNoneMatch="*",
                    **self._object_attributes(),
                )
                return True
            if buffer:
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, buffer))
                buffer = bytearray()
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
            completed = True
            return True
        except _client_errors() as error:
            # 412: the key exists, written whole by an earlier delivery or another worker.
            if _error_code(error) == "PreconditionFailed":
                return False
            raise
        finally:
            if upload_id is not None and not completed:
                self._abort(key, upload_id)

    def _upload_part(
        self, key: str, upload_id: str, number: int, body: bytearray
    ) -> dict[str, Any]:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        part = {"ETag": answer["ETag"], "PartNumber": number}
        # Keep the checksums the SDK computed, so completion can verify each part.
        part |= {name: value for name, value in answer.items() if name.startswith("Checksum")}
        part.pop("ChecksumType", None)
        return part

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except _client_errors():
            # The bucket's lifecycle rule removes incomplete uploads after a day anyway.
            logger.warning("could not abort a multipart upload", key=key)

    def presigned_url(self, key: str, ttl_seconds: int) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=ttl_seconds,
            )
        )


class LocalExportStore:
    """A folder (inline mode). A document is written to a temporary file and then hard
    linked into place, which fails if the name exists: create-if-absent, like S3's."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if not candidate.is_relative_to(self.root):
            raise ValueError(f"object key {key!r} leaves the export folder")
        return candidate

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> bool:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            try:
                os.link(temporary, target)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(temporary)


# -- turning a pending export into a stored document --------------------------------------


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


class ExportRunner:
    """Builds one export: load -> (skip if done) -> store the document once -> mark done."""

    def __init__(
        self,
        database: Database,
        store: ExportStore,
        *,
        batch_size: int = exports.DEFAULT_BATCH_SIZE,
    ) -> None:
        self.database = database
        self.store = store
        self.batch_size = batch_size

    def load(self, export_id: str) -> exports.ExportJob:
        with self.database.read() as session:
            job = exports.load_job(session, export_id)
        if job is None:
            raise PoisonMessage(f"export {export_id} does not exist")
        return job

    def run(self, export_id: str) -> str:
        return self.process(self.load(export_id))

    def process(self, job: exports.ExportJob) -> str:
        if job.status == exports.DONE:
            logger.info("export already done", export_id=job.export_id)
            return SKIPPED
        if job.status == exports.FAILED:
            # Only a redrive from the dead-letter queue brings a failed export back.
            with self.database.transaction() as session:
                reopened = exports.reopen(session, job.export_id)
            logger.info("retrying a failed export", export_id=job.export_id, reopened=reopened)
        key = job.object_key
        if self.store.exists(key):
            written = False
        else:
            with self.database.read() as session:
                chunks = exports.export_document(session, job.user_id, batch_size=self.batch_size)
                written = self.store.put_stream(key, _encoded(chunks))
        with self.database.transaction() as session:
            marked = exports.mark_done(session, job.export_id, key)
        logger.info(
            "export stored",
            export_id=job.export_id,
            object_key=key,
            written_now=written,
            marked_done_now=marked,
        )
        return BUILT if marked else RACED

    def give_up(self, export_id: str, reason: str) -> bool:
        """Mark a pending export failed with a reason its owner can read."""
        with self.database.transaction() as session:
            return exports.mark_failed(session, export_id, reason)


# -- handing an export over ----------------------------------------------------------------


class ExportQueue(Protocol):
    def submit(self, export_id: str) -> None:
        """Hand over an export whose row is committed; QueueUnavailable on failure."""
        ...


class SqsExportQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            # Fail fast inside the request rather than hold the caller for long.
            self._client = _aws_client("sqs", connect_timeout=2, read_timeout=5)
        return self._client

    def submit(self, export_id: str) -> None:
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=encode_message(export_id))
        except _client_errors() as error:
            raise QueueUnavailable(f"could not queue export {export_id}: {error}") from error


class InlineExportQueue:
    """Local mode: build the export now, in this process. No retries: a failure marks the
    export failed at once."""

    def __init__(self, runner: ExportRunner) -> None:
        self.runner = runner

    def submit(self, export_id: str) -> None:
        try:
            self.runner.run(export_id)
        except Exception:
            logger.exception("inline export failed", export_id=export_id)
            self.runner.give_up(export_id, INLINE_FAILED_REASON)


@dataclass(frozen=True)
class ExportBackend:
    """What a web layer needs: hand exports over, and find finished ones."""

    settings: ExportSettings
    queue: ExportQueue
    store: S3ExportStore | LocalExportStore

    @property
    def inline(self) -> bool:
        return isinstance(self.store, LocalExportStore)

    def presigned_url(self, key: str) -> str:
        assert isinstance(self.store, S3ExportStore)
        return self.store.presigned_url(key, self.settings.url_ttl_seconds)

    def local_file(self, key: str) -> Path:
        assert isinstance(self.store, LocalExportStore)
        return self.store.path(key)


def export_backend(settings: ExportSettings, database: Database) -> ExportBackend:
    if settings.mode == "sqs":
        return ExportBackend(
            settings=settings,
            queue=SqsExportQueue(settings.queue_url),
            store=S3ExportStore(settings.bucket, kms_key_id=settings.kms_key_id),
        )
    store = LocalExportStore(settings.local_dir)
    return ExportBackend(
        settings=settings, queue=InlineExportQueue(ExportRunner(database, store)), store=store
    )
