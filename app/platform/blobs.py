"""Where whole documents are kept: a private S3 bucket, or (local and test) a folder.

Both write a key only if it is absent (S3 `If-None-Match: *`; a hard link locally), so
two writers of one key leave one object, written whole by one of them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.platform.aws import aws_client, client_errors, error_code
from app.platform.observability import logger

# Each multipart part is held in memory once while it is sent. S3's minimum is 5 MiB
# (except for the last part); 10,000 parts of 8 MiB allow documents up to ~78 GiB.
PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class Download:
    """How a stored object is served: its content type, and the file name a browser
    saves it under (none: shown inline)."""

    content_type: str
    filename: str = ""


BINARY = Download("application/octet-stream")


class BlobStore(Protocol):
    def exists(self, key: str) -> bool: ...

    def put_stream(self, key: str, chunks: Iterable[bytes], download: Download = BINARY) -> bool:
        """Store the chunks as one object at `key` unless it already exists.
        True when this call created it, False when the key was already taken."""
        ...


class S3BlobStore:
    """A private bucket; objects are encrypted (SSE-KMS with the given key, else SSE-S3)
    and uploaded in parts as the chunks arrive, so memory holds one part."""

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
            self._client = aws_client(
                "s3", signature_version="s3v4", connect_timeout=3, read_timeout=60
            )
        return self._client

    def _object_attributes(self, download: Download) -> dict[str, Any]:
        attributes: dict[str, Any] = {"ContentType": download.content_type}
        if download.filename:
            attributes["ContentDisposition"] = f'attachment; filename="{download.filename}"'
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
        except client_errors() as error:
            if error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put_stream(self, key: str, chunks: Iterable[bytes], download: Download = BINARY) -> bool:
        attributes = self._object_attributes(download)
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
                            Bucket=self.bucket, Key=key, **attributes
                        )["UploadId"]
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, buffer))
                    buffer = bytearray()
            if upload_id is None:
                # Small enough for one request.
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=bytes(buffer), IfNoneMatch="*", **attributes
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
        except client_errors() as error:
            # 412: the key exists, written whole by an earlier call or another writer.
            if error_code(error) == "PreconditionFailed":
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
        except client_errors():
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


class LocalBlobStore:
    """A folder. An object is written to a temporary file and then hard linked into
    place, which fails if the name exists: create-if-absent, like S3's. A file keeps no
    `Download`: whoever serves it sets its type and name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if not candidate.is_relative_to(self.root):
            raise ValueError(f"object key {key!r} leaves the folder {self.root}")
        return candidate

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_stream(self, key: str, chunks: Iterable[bytes], download: Download = BINARY) -> bool:
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
