"""The EXPORTS_* settings: defaults in local/test, required values in deployed stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.exports.settings import DEFAULT_EXPORTS_DIR, export_settings
from app.platform.settings import ConfigError, Settings
from tests.support.servers import REPO

DEPLOYED = {
    "APP_ENV": "prod",
    "DATABASE_URL": "mysql+pymysql://u@db:3306/conduit",
    "JWT_SECRET": "s" * 40,
}
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/conduit-prod-exports"
AWS_EXPORTS = {
    "EXPORTS_QUEUE_URL": QUEUE,
    "EXPORTS_BUCKET": "conduit-prod-exports",
    "EXPORTS_KMS_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/abc",
}


def test_local_defaults_to_inline_under_instance() -> None:
    exports = export_settings(Settings.from_env({"APP_ENV": "local"}))
    assert exports.mode == "inline"
    assert exports.local_dir == DEFAULT_EXPORTS_DIR
    assert exports.url_ttl_seconds == 300
    assert exports.max_receive_count == 5


def test_a_queue_url_selects_sqs_mode() -> None:
    exports = export_settings(
        Settings.from_env({"APP_ENV": "local", "EXPORTS_QUEUE_URL": QUEUE, "EXPORTS_BUCKET": "b"})
    )
    assert (exports.mode, exports.queue_url, exports.bucket, exports.kms_key_id) == (
        "sqs",
        QUEUE,
        "b",
        "",
    )


def test_deployed_stage_reads_every_value() -> None:
    exports = export_settings(
        Settings.from_env(
            {
                **DEPLOYED,
                **AWS_EXPORTS,
                "EXPORTS_URL_TTL_SECONDS": "60",
                "EXPORTS_MAX_RECEIVE_COUNT": "4",
            }
        )
    )
    assert exports.mode == "sqs"
    assert exports.kms_key_id == AWS_EXPORTS["EXPORTS_KMS_KEY_ID"]
    assert (exports.url_ttl_seconds, exports.max_receive_count) == (60, 4)


@pytest.mark.parametrize("missing", sorted(AWS_EXPORTS))
def test_deployed_stage_names_a_missing_variable(missing: str) -> None:
    env = {**DEPLOYED, **AWS_EXPORTS}
    del env[missing]
    settings = Settings.from_env(env)  # nothing of the feature is read before its first use
    with pytest.raises(ConfigError, match=missing):
        export_settings(settings)


def test_inline_mode_is_refused_in_deployed_stages() -> None:
    with pytest.raises(ConfigError, match="EXPORTS_MODE=inline"):
        export_settings(Settings.from_env({**DEPLOYED, **AWS_EXPORTS, "EXPORTS_MODE": "inline"}))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EXPORTS_MODE", "kafka", "EXPORTS_MODE must be one of"),
        ("EXPORTS_URL_TTL_SECONDS", "86400", "at most 3600"),
        ("EXPORTS_URL_TTL_SECONDS", "0", "greater than zero"),
        ("EXPORTS_MAX_RECEIVE_COUNT", "many", "whole number"),
    ],
)
def test_bad_values_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        export_settings(Settings.from_env({"APP_ENV": "test", name: value}))


def test_local_dir_is_configurable(tmp_path: Path) -> None:
    exports = export_settings(
        Settings.from_env({"APP_ENV": "test", "EXPORTS_LOCAL_DIR": str(tmp_path)})
    )
    assert exports.local_dir == tmp_path


def test_a_function_that_never_exports_starts_without_export_variables() -> None:
    """The tags list imports and serves in a deployed stage with no EXPORTS_* set."""
    import subprocess
    import sys

    code = (
        "import app.functions.list_tags as f; "
        "from app.exports.settings import export_settings; "
        "from app.platform.settings import ConfigError\n"
        "try:\n    export_settings(f.runtime.settings)\n"
        "except ConfigError as error:\n    print('first use:', error)"
    )
    environ = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ".", **DEPLOYED}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "first use: EXPORTS_QUEUE_URL and EXPORTS_BUCKET" in result.stdout
