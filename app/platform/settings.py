"""Settings read once from the environment.

A required value has no default: a missing one fails at start with a message that
names the variable, not at the first request that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Stages where convenient defaults are allowed. Anything else is a deployed stage.
DEVELOPMENT_ENVS = frozenset({"local", "test"})
KNOWN_ENVS = DEVELOPMENT_ENVS | {"dev", "staging", "prod"}

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "conduit.db"

# Only ever used in local and test: a deployed stage must supply its own secret.
_DEVELOPMENT_JWT_SECRET = "conduit-local-development-secret-do-not-deploy"  # noqa: S105


class ConfigError(RuntimeError):
    """The environment is missing or has a bad value for a setting."""


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id cost parameters (RFC 9106 second recommended option by default)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


# Cheap parameters for the test suite only: hashing must not dominate test time.
TEST_PASSWORD_HASHING = PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1)


@dataclass(frozen=True)
class Settings:
    app_env: str
    database_url: str
    jwt_secret: str
    jwt_ttl_seconds: int
    password_hashing: PasswordHashing
    # Upper bound for ?limit= on article lists; larger values are clamped to it.
    max_page_size: int = 100

    @property
    def is_development(self) -> bool:
        return self.app_env in DEVELOPMENT_ENVS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "local").strip() or "local"
        if app_env not in KNOWN_ENVS:
            raise ConfigError(
                f"APP_ENV must be one of {', '.join(sorted(KNOWN_ENVS))}; got {app_env!r}"
            )
        development = app_env in DEVELOPMENT_ENVS

        jwt_secret = env.get("JWT_SECRET", "")
        if not jwt_secret:
            if not development:
                raise ConfigError(f"JWT_SECRET is required when APP_ENV={app_env}")
            jwt_secret = _DEVELOPMENT_JWT_SECRET
        elif len(jwt_secret) < 32 and not development:
            raise ConfigError("JWT_SECRET must be at least 32 characters long")

        database_url = env.get("DATABASE_URL", "")
        if not database_url:
            if not development:
                raise ConfigError(f"DATABASE_URL is required when APP_ENV={app_env}")
            database_url = f"sqlite:///{DEFAULT_SQLITE_PATH}"

        hashing = TEST_PASSWORD_HASHING if app_env == "test" else PasswordHashing()
        return cls(
            app_env=app_env,
            database_url=database_url,
            jwt_secret=jwt_secret,
            jwt_ttl_seconds=_positive_int(env, "JWT_TTL_SECONDS", 7 * 24 * 3600),
            password_hashing=hashing,
            max_page_size=_positive_int(env, "MAX_PAGE_SIZE", 100),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
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
