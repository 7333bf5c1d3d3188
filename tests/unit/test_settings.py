"""Settings from the environment: defaults only in local and test, fail fast elsewhere."""

from __future__ import annotations

import pytest

from app.platform.settings import (
    DEFAULT_SQLITE_PATH,
    TEST_PASSWORD_HASHING,
    ConfigError,
    PasswordHashing,
    Settings,
)

SECRET = "a-deployed-secret-of-enough-length-0123456789"
DEPLOYED = {
    "JWT_SECRET": SECRET,
    "DATABASE_URL": "mysql+pymysql://u@db/conduit",
    # A deployed stage's export variables: set aside here, resolved by the export feature
    # (app/exports/settings.py) on its first use.
    "EXPORTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/exports",
    "EXPORTS_BUCKET": "conduit-exports",
    "EXPORTS_KMS_KEY_ID": "alias/conduit-exports",
}


def test_local_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.app_env == "local"
    assert settings.is_development
    assert settings.database_url == f"sqlite:///{DEFAULT_SQLITE_PATH}"
    assert settings.jwt_secret
    assert settings.jwt_ttl_seconds == 7 * 24 * 3600
    assert settings.max_page_size == 100
    assert settings.password_hashing == PasswordHashing()


def test_blank_app_env_means_local() -> None:
    assert Settings.from_env({"APP_ENV": "  "}).app_env == "local"


def test_test_env_hashes_cheaply() -> None:
    settings = Settings.from_env({"APP_ENV": "test"})
    assert settings.password_hashing == TEST_PASSWORD_HASHING
    assert settings.password_hashing.memory_cost_kib < PasswordHashing().memory_cost_kib


@pytest.mark.parametrize("app_env", ["dev", "staging", "prod"])
def test_deployed_stage_reads_everything_from_the_environment(app_env: str) -> None:
    settings = Settings.from_env(
        DEPLOYED | {"APP_ENV": app_env, "JWT_TTL_SECONDS": "3600", "MAX_PAGE_SIZE": "50"}
    )
    assert settings.app_env == app_env
    assert not settings.is_development
    assert settings.jwt_secret == SECRET
    assert settings.database_url == DEPLOYED["DATABASE_URL"]
    assert settings.jwt_ttl_seconds == 3600
    assert settings.max_page_size == 50
    assert settings.password_hashing == PasswordHashing()


@pytest.mark.parametrize("app_env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("missing", ["JWT_SECRET", "DATABASE_URL"])
def test_deployed_stage_without_a_required_variable_fails(app_env: str, missing: str) -> None:
    env = {name: value for name, value in DEPLOYED.items() if name != missing}
    with pytest.raises(ConfigError, match=rf"{missing}.* is required when APP_ENV={app_env}"):
        Settings.from_env(env | {"APP_ENV": app_env})


@pytest.mark.parametrize("missing", ["JWT_SECRET", "DATABASE_URL"])
def test_empty_required_variable_counts_as_missing(missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(DEPLOYED | {"APP_ENV": "prod", missing: ""})


def test_deployed_stage_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET must be at least 32 characters"):
        Settings.from_env(DEPLOYED | {"APP_ENV": "prod", "JWT_SECRET": "x" * 31})


def test_development_tolerates_a_short_secret() -> None:
    assert Settings.from_env({"APP_ENV": "local", "JWT_SECRET": "short"}).jwt_secret == "short"


@pytest.mark.parametrize("app_env", ["production", "PROD", "Local", "qa"])
def test_unknown_app_env_fails(app_env: str) -> None:
    with pytest.raises(ConfigError, match="APP_ENV must be one of dev, local, prod, staging, test"):
        Settings.from_env(DEPLOYED | {"APP_ENV": app_env})


@pytest.mark.parametrize("name", ["JWT_TTL_SECONDS", "MAX_PAGE_SIZE"])
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "must be a whole number; got 'abc'"),
        ("1.5", "must be a whole number; got '1.5'"),
        ("0", "must be greater than zero; got 0"),
        ("-5", "must be greater than zero; got -5"),
    ],
)
def test_bad_integers_fail(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"APP_ENV": "test", name: raw})
    assert str(caught.value) == f"{name} {message}"


def test_blank_integers_take_the_default() -> None:
    settings = Settings.from_env({"APP_ENV": "test", "JWT_TTL_SECONDS": "", "MAX_PAGE_SIZE": ""})
    assert (settings.jwt_ttl_seconds, settings.max_page_size) == (7 * 24 * 3600, 100)


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "staging")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    with pytest.raises(ConfigError, match=r"JWT_SECRET.* is required when APP_ENV=staging"):
        Settings.from_env()


def test_a_secret_given_by_name_is_fetched_on_first_use_only_once() -> None:
    fetched: list[str] = []

    def fetch(name: str) -> str:
        fetched.append(name)
        return SECRET

    env = {k: v for k, v in DEPLOYED.items() if k != "JWT_SECRET"}
    settings = Settings.from_env(env | {"JWT_SECRET_ID": "conduit/prod/jwt"}, fetch_secret=fetch)
    assert fetched == []  # reading settings at start fetches nothing
    assert settings.jwt_secret == SECRET
    assert settings.jwt_secret == SECRET
    assert fetched == ["conduit/prod/jwt"]


def test_a_fetched_secret_that_is_too_short_is_refused_when_used() -> None:
    env = {k: v for k, v in DEPLOYED.items() if k != "JWT_SECRET"}
    settings = Settings.from_env(env | {"JWT_SECRET_ID": "weak"}, fetch_secret=lambda _: "short")
    with pytest.raises(ConfigError, match="JWT_SECRET_ID"):
        _ = settings.jwt_secret
