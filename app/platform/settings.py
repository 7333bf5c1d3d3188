"""Settings read once from the environment.

A required value has no default: a missing one fails at start with a message that
names the variable, not at the first request that needs it. An optional feature's
variables (the export feature's EXPORTS_*) are set aside here and resolved, with the same
kind of message, when the feature is first used (app/exports/settings.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

# Stages where convenient defaults are allowed. Anything else is a deployed stage.
DEVELOPMENT_ENVS = frozenset({"local", "test"})
KNOWN_ENVS = DEVELOPMENT_ENVS | {"dev", "staging", "prod"}

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "conduit.db"

# Only ever used in local and test: a deployed stage must supply its own secret.
_DEVELOPMENT_JWT_SECRET = "conduit-local-development-secret-do-not-deploy"  # noqa: S105


MIN_JWT_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment is missing or has a bad value for a setting."""


# NamedTuples, not dataclasses: README, "What a function loads at cold start".
class PasswordHashing(NamedTuple):
    """Argon2id cost parameters (RFC 9106 second recommended option by default)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


# Cheap parameters for the test suite only: hashing must not dominate test time.
TEST_PASSWORD_HASHING = PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1)


class DatabaseAccess(NamedTuple):
    """How to reach the database beyond its URL (deployed stages: RDS Proxy)."""

    # Connect with an IAM auth token as the password (RDS Proxy with IAM auth).
    iam_auth: bool = False
    # Require TLS and verify the server certificate against the system trust store.
    tls: bool = False
    # One pooled connection per process: the shape of a Lambda execution environment.
    single_connection: bool = False
    host: str = ""
    port: int = 3306
    user: str = ""
    region: str = ""


class SigningKey:
    """The token signing key: given as is (JWT_SECRET), or by the name of a Secrets
    Manager secret (JWT_SECRET_ID) fetched on first use. Code that never signs or checks
    a token (the tags list, migrate, the export worker) never fetches it, so a cold start pays
    neither boto3's import nor a Secrets Manager call for it."""

    def __init__(
        self, value: str = "", *, secret_id: str = "", fetch: Callable[[str], str] | None = None
    ) -> None:
        self._value = value
        self._secret_id = secret_id
        self._fetch = fetch or _fetch_secret
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            if not self._value:
                fetched = self._fetch(self._secret_id)
                if len(fetched) < MIN_JWT_SECRET_LENGTH:
                    raise ConfigError(
                        f"the secret named by JWT_SECRET_ID ({self._secret_id}) must be at "
                        f"least {MIN_JWT_SECRET_LENGTH} characters long"
                    )
                self._value = fetched
            return self._value


class Settings(NamedTuple):
    app_env: str
    database_url: str
    signing_key: SigningKey
    jwt_ttl_seconds: int
    password_hashing: PasswordHashing
    # Upper bound for ?limit= on article lists; larger values are clamped to it.
    max_page_size: int = 100
    database_access: DatabaseAccess = DatabaseAccess()
    # The variables of optional features (EXPORTS_*), resolved by the feature on its first
    # use (app.exports.settings): a function that never exports neither needs nor
    # validates them.
    feature_env: Mapping[str, str] = MappingProxyType({})

    @property
    def jwt_secret(self) -> str:
        """The signing key; fetched from Secrets Manager on first use when given by name."""
        return self.signing_key.value()

    @property
    def is_development(self) -> bool:
        return self.app_env in DEVELOPMENT_ENVS

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        fetch_secret: Callable[[str], str] | None = None,
    ) -> Settings:
        """Read settings; `fetch_secret` resolves a secret by name (Secrets Manager
        by default) for values given as `<NAME>_SECRET_ID`."""
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "local").strip() or "local"
        if app_env not in KNOWN_ENVS:
            raise ConfigError(
                f"APP_ENV must be one of {', '.join(sorted(KNOWN_ENVS))}; got {app_env!r}"
            )
        development = app_env in DEVELOPMENT_ENVS

        jwt_secret = env.get("JWT_SECRET", "")
        if jwt_secret:
            if len(jwt_secret) < MIN_JWT_SECRET_LENGTH and not development:
                raise ConfigError(
                    f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters long"
                )
            signing_key = SigningKey(jwt_secret)
        elif env.get("JWT_SECRET_ID"):
            signing_key = SigningKey(secret_id=env["JWT_SECRET_ID"], fetch=fetch_secret)
        elif development:
            signing_key = SigningKey(_DEVELOPMENT_JWT_SECRET)
        else:
            raise ConfigError(f"JWT_SECRET or JWT_SECRET_ID is required when APP_ENV={app_env}")

        database_url, access = _database(env, development, app_env)

        hashing = TEST_PASSWORD_HASHING if app_env == "test" else PasswordHashing()
        return cls(
            app_env=app_env,
            database_url=database_url,
            signing_key=signing_key,
            jwt_ttl_seconds=positive_int(env, "JWT_TTL_SECONDS", 7 * 24 * 3600),
            password_hashing=hashing,
            max_page_size=positive_int(env, "MAX_PAGE_SIZE", 100),
            database_access=access,
            feature_env={name: value for name, value in env.items() if name.startswith("EXPORTS_")},
        )


def _fetch_secret(name: str) -> str:
    from app.platform.secrets import fetch_secret

    return fetch_secret(name)


def _database(
    env: Mapping[str, str], development: bool, app_env: str
) -> tuple[str, DatabaseAccess]:
    """DATABASE_URL as given, or a MySQL URL for RDS Proxy built from DB_HOST & co."""
    on_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"], DatabaseAccess(single_connection=on_lambda)
    if env.get("DB_HOST"):
        missing = [name for name in ("DB_NAME", "DB_USER") if not env.get(name)]
        if missing:
            raise ConfigError(f"{' and '.join(missing)} required when DB_HOST is set")
        iam_auth = _flag(env, "DB_IAM_AUTH", default=True)
        region = env.get("AWS_REGION", "")
        if iam_auth and not region:
            raise ConfigError("AWS_REGION is required when DB_IAM_AUTH is on")
        access = DatabaseAccess(
            iam_auth=iam_auth,
            tls=_flag(env, "DB_TLS", default=True),
            single_connection=on_lambda,
            host=env["DB_HOST"],
            port=positive_int(env, "DB_PORT", 3306),
            user=env["DB_USER"],
            region=region,
        )
        url = (
            f"mysql+pymysql://{access.user}@{access.host}:{access.port}/{env['DB_NAME']}"
            "?charset=utf8mb4"
        )
        return url, access
    if not development:
        raise ConfigError(f"DATABASE_URL or DB_HOST is required when APP_ENV={app_env}")
    return f"sqlite:///{DEFAULT_SQLITE_PATH}", DatabaseAccess()


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false; got {env[name]!r}")


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number; got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero; got {value}")
    return value
