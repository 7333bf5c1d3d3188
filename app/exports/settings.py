"""The export feature's settings (EXPORTS_*), resolved on first use from the variables
`Settings.from_env` set aside (`Settings.feature_env`): a function that never exports
neither needs nor validates them, and a missing or bad value is a ConfigError naming the
variable when the feature is first used.

`sqs`: the monolith records the export, sends its id to EXPORTS_QUEUE_URL, and the export
worker writes the document to EXPORTS_BUCKET (SSE-KMS with EXPORTS_KMS_KEY_ID, or SSE-S3
when no key is given, local only); downloads are presigned S3 GET URLs.
`inline` (local and test only, the default there when EXPORTS_QUEUE_URL is unset): the
monolith builds the export in-process right after the request commits, writes it under
`local_dir`, and serves it itself at /api/user/exports/<id>/download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.platform.settings import PROJECT_ROOT, ConfigError, Settings, positive_int

EXPORTS_MODES = ("sqs", "inline")
# A presigned download link is a bearer credential: keep it short-lived.
EXPORTS_URL_TTL_MAX_SECONDS = 3600
# Inline exports (local/test) are written under <dir>/exports/<user id>/<export id>.json.
DEFAULT_EXPORTS_DIR = PROJECT_ROOT / "instance"


@dataclass(frozen=True)
class ExportSettings:
    """Where data exports (POST /api/user/exports) are built and kept."""

    mode: str = "inline"
    queue_url: str = ""
    bucket: str = ""
    kms_key_id: str = ""
    url_ttl_seconds: int = 300
    # Must equal maxReceiveCount of the queue's redrive policy: on that attempt the worker
    # marks the export failed before the message goes to the dead-letter queue.
    max_receive_count: int = 5
    local_dir: Path = DEFAULT_EXPORTS_DIR


def export_settings(settings: Settings) -> ExportSettings:
    env = settings.feature_env
    app_env = settings.app_env
    development = settings.is_development
    queue_url = env.get("EXPORTS_QUEUE_URL", "").strip()
    bucket = env.get("EXPORTS_BUCKET", "").strip()
    kms_key_id = env.get("EXPORTS_KMS_KEY_ID", "").strip()
    mode = env.get("EXPORTS_MODE", "").strip().lower()
    if not mode:
        mode = "inline" if development and not queue_url else "sqs"
    if mode not in EXPORTS_MODES:
        raise ConfigError(f"EXPORTS_MODE must be one of {', '.join(EXPORTS_MODES)}; got {mode!r}")
    if mode == "inline" and not development:
        raise ConfigError(f"EXPORTS_MODE=inline is for local and test only, not APP_ENV={app_env}")
    if mode == "sqs":
        required = {"EXPORTS_QUEUE_URL": queue_url, "EXPORTS_BUCKET": bucket}
        if not development:
            # Deployed stages encrypt exports with the stack's key, never a silent fallback.
            required["EXPORTS_KMS_KEY_ID"] = kms_key_id
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} required when EXPORTS_MODE=sqs (APP_ENV={app_env})"
            )
    url_ttl = positive_int(env, "EXPORTS_URL_TTL_SECONDS", 300)
    if url_ttl > EXPORTS_URL_TTL_MAX_SECONDS:
        raise ConfigError(
            f"EXPORTS_URL_TTL_SECONDS must be at most {EXPORTS_URL_TTL_MAX_SECONDS}; got {url_ttl}"
        )
    local_dir = env.get("EXPORTS_LOCAL_DIR", "").strip()
    return ExportSettings(
        mode=mode,
        queue_url=queue_url,
        bucket=bucket,
        kms_key_id=kms_key_id,
        url_ttl_seconds=url_ttl,
        max_receive_count=positive_int(env, "EXPORTS_MAX_RECEIVE_COUNT", 5),
        local_dir=Path(local_dir) if local_dir else DEFAULT_EXPORTS_DIR,
    )
