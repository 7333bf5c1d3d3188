"""Authentication on every endpoint: required-auth endpoints answer 401 to anything but a
valid token for an existing account, and write nothing; optional-auth endpoints serve
anonymous callers but refuse credentials that were sent and are not valid."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.models import Base
from app.platform.db import Database
from tests.support.api import (
    TEST_SECRET,
    Account,
    Actions,
    assert_error,
    bearer,
    delete_user,
    make_token,
    user_id_of,
)

SLUG = "how-to-train-your-dragon"


@dataclass
class World:
    """celeb wrote an article and commented on it; ghost, whose credentials the tests
    spoil in different ways, follows celeb and favorited the article (so that a wrongly
    accepted unfollow or unfavorite would show)."""

    celeb: Account
    ghost: Account
    comment_id: int


@pytest.fixture
def world(actions: Actions) -> World:
    celeb = actions.register("celeb")
    ghost = actions.register("ghost")
    actions.article(celeb)
    comment = actions.comment(celeb, SLUG)
    actions.follow(ghost, "celeb")
    actions.favorite(ghost, SLUG)
    return World(celeb, ghost, comment["id"])


def snapshot(database: Database) -> dict[str, list[Any]]:
    """Every row of every table: all that a rejected request could have changed."""
    with database.read() as session:
        return {
            table.name: sorted(tuple(row) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


REQUIRED = [
    ("GET", "/api/user", None),
    ("PUT", "/api/user", {"user": {"bio": "hacked"}}),
    ("POST", "/api/profiles/celeb/follow", None),
    ("DELETE", "/api/profiles/celeb/follow", None),
    ("GET", "/api/articles/feed", None),
    (
        "POST",
        "/api/articles",
        {"article": {"title": "T", "description": "D", "body": "B", "tagList": ["t"]}},
    ),
    ("PUT", f"/api/articles/{SLUG}", {"article": {"title": "Hacked"}}),
    ("DELETE", f"/api/articles/{SLUG}", None),
    ("POST", f"/api/articles/{SLUG}/favorite", None),
    ("DELETE", f"/api/articles/{SLUG}/favorite", None),
    ("POST", f"/api/articles/{SLUG}/comments", {"comment": {"body": "Spam"}}),
    ("DELETE", f"/api/articles/{SLUG}/comments/{{comment_id}}", None),
]
OPTIONAL = [
    "/api/articles",
    f"/api/articles/{SLUG}",
    f"/api/articles/{SLUG}/comments",
    "/api/profiles/celeb",
]


def _other_secret(world: World, database: Database) -> str:
    return "Token " + make_token(str(user_id_of(world.ghost)), secret="another-secret-" + "y" * 32)


def _expired(world: World, database: Database) -> str:
    return "Token " + make_token(str(user_id_of(world.ghost)), expires_in=-10)


def _without_expiry(world: World, database: Database) -> str:
    return "Token " + make_token(str(user_id_of(world.ghost)), expires_in=None)


def _non_numeric_subject(world: World, database: Database) -> str:
    return "Token " + make_token("ghost")


def _integer_subject(world: World, database: Database) -> str:
    # PyJWT insists on a string `sub`; a number there is not our token.
    return "Token " + make_token(user_id_of(world.ghost))


def _huge_subject(world: World, database: Database) -> str:
    # Past every backend's integer column: it must not reach the database driver.
    return "Token " + make_token("9" * 30)


def _superscript_subject(world: World, database: Database) -> str:
    # str.isdigit() accepts "²"; int() does not.
    return "Token " + make_token("²")


def _unsigned(world: World, database: Database) -> str:
    claims = {"sub": str(user_id_of(world.ghost)), "exp": 4102444800}
    return "Token " + jwt.encode(claims, None, algorithm="none")


def _tampered(world: World, database: Database) -> str:
    header, _, signature = world.ghost.token.split(".")
    claims = base64.urlsafe_b64encode(
        f'{{"sub":"{user_id_of(world.celeb)}","exp":4102444800}}'.encode()
    ).rstrip(b"=")
    return f"Token {header}.{claims.decode()}.{signature}"


def _unknown_user(world: World, database: Database) -> str:
    return "Token " + make_token("987654")


def _deleted_user(world: World, database: Database) -> str:
    delete_user(database, "ghost")
    return f"Token {world.ghost.token}"


BAD_AUTHORIZATION: dict[str, Callable[[World, Database], str]] = {
    "scheme only": lambda world, db: "Token",
    "scheme and blank": lambda world, db: "Token    ",
    "unknown scheme": lambda world, db: "Basic " + base64.b64encode(b"ghost:pw").decode(),
    "no scheme": lambda world, db: world.ghost.token,
    "two tokens": lambda world, db: f"Token {world.ghost.token} {world.ghost.token}",
    "not a jwt": lambda world, db: "Token not-a-jwt",
    "truncated": lambda world, db: "Token " + world.ghost.token[:-3],
    "other secret": _other_secret,
    "tampered claims": _tampered,
    "unsigned": _unsigned,
    "expired": _expired,
    "no expiry": _without_expiry,
    "non-numeric subject": _non_numeric_subject,
    "integer subject": _integer_subject,
    "huge subject": _huge_subject,
    "superscript subject": _superscript_subject,
    "unknown user": _unknown_user,
    "deleted user": _deleted_user,
}

# One of each way to fail (header, signature, expiry, account), for the endpoint matrices;
# every kind is tried on two endpoints in test_required_auth_refuses_bad_credentials.
SAMPLE_OF_BAD_AUTHORIZATION = [
    "unknown scheme",
    "huge subject",
    "superscript subject",
    "not a jwt",
    "other secret",
    "expired",
    "unknown user",
    "deleted user",
]


def call(
    client: FlaskClient, world: World, method: str, path: str, body: Any, headers: dict[str, str]
) -> Any:
    return client.open(
        path.format(comment_id=world.comment_id), method=method, json=body, headers=headers
    )


@pytest.mark.parametrize(("method", "path", "body"), REQUIRED)
def test_required_auth_without_a_token_is_401(
    client: FlaskClient, database: Database, world: World, method: str, path: str, body: Any
) -> None:
    before = snapshot(database)
    response = call(client, world, method, path, body, {})
    assert assert_error(response, 401) == ["authorization is required"]
    assert snapshot(database) == before


# Every kind of bad credentials on two endpoints (a read and a write), and one of each way
# to fail on every endpoint: no pair twice.
BAD_CREDENTIAL_CASES = sorted(
    {(kind, endpoint) for kind in BAD_AUTHORIZATION for endpoint in (0, 5)}
    | {
        (kind, endpoint)
        for kind in SAMPLE_OF_BAD_AUTHORIZATION
        for endpoint in range(len(REQUIRED))
    }
)


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    BAD_CREDENTIAL_CASES,
    ids=[
        f"{REQUIRED[endpoint][0]} {REQUIRED[endpoint][1]}-{kind}"
        for kind, endpoint in BAD_CREDENTIAL_CASES
    ],
)
def test_required_auth_refuses_bad_credentials(
    client: FlaskClient, database: Database, world: World, kind: str, endpoint: int
) -> None:
    method, path, body = REQUIRED[endpoint]
    authorization = BAD_AUTHORIZATION[kind](world, database)
    before = snapshot(database)
    response = call(client, world, method, path, body, {"Authorization": authorization})
    assert_error(response, 401)
    assert snapshot(database) == before


@pytest.mark.parametrize("path", OPTIONAL)
def test_optional_auth_serves_anonymous_callers(
    client: FlaskClient, world: World, path: str
) -> None:
    assert client.get(path).status_code == 200
    assert client.get(path, headers={"Authorization": "   "}).status_code == 200


@pytest.mark.parametrize("kind", SAMPLE_OF_BAD_AUTHORIZATION)
@pytest.mark.parametrize("path", OPTIONAL)
def test_optional_auth_refuses_bad_credentials(
    client: FlaskClient, database: Database, world: World, path: str, kind: str
) -> None:
    authorization = BAD_AUTHORIZATION[kind](world, database)
    assert_error(client.get(path, headers={"Authorization": authorization}), 401)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("scheme only", "authorization header must be 'Token <jwt>'"),
        ("unknown scheme", "authorization header must be 'Token <jwt>'"),
        ("not a jwt", "token is invalid"),
        ("other secret", "token is invalid"),
        ("expired", "token has expired"),
        ("unknown user", "token is invalid"),
        ("deleted user", "token is invalid"),
        ("huge subject", "token is invalid"),
        ("superscript subject", "token is invalid"),
    ],
)
def test_bad_credentials_say_what_is_wrong(
    client: FlaskClient, database: Database, world: World, kind: str, message: str
) -> None:
    authorization = BAD_AUTHORIZATION[kind](world, database)
    response = client.get("/api/user", headers={"Authorization": authorization})
    assert assert_error(response, 401) == [message]


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
@pytest.mark.parametrize(("method", "path", "body"), REQUIRED)
def test_token_and_bearer_schemes_are_both_accepted(
    client: FlaskClient, world: World, method: str, path: str, body: Any, scheme: str
) -> None:
    if method == "POST" and path.endswith("/follow"):
        # One cannot follow oneself: follow someone else.
        path = "/api/profiles/ghost/follow"
    response = call(client, world, method, path, body, bearer(world.celeb.token, scheme))
    expected = {
        ("POST", "/api/articles"): 201,
        ("DELETE", f"/api/articles/{SLUG}"): 204,
        ("DELETE", f"/api/articles/{SLUG}/comments/{{comment_id}}"): 204,
    }.get((method, path), 200)
    assert response.status_code == expected, response.get_data(as_text=True)


def test_a_token_from_login_works_like_the_registration_token(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/users/login", json={"user": {"email": "celeb@example.com", "password": "password123"}}
    )
    token = response.json["user"]["token"]
    assert client.get("/api/user", headers=bearer(token)).json["user"]["username"] == "celeb"


def test_a_crafted_token_with_the_right_secret_is_accepted(
    client: FlaskClient, world: World
) -> None:
    """The test secret really is the one the app signs with: the 401s above are not
    an artefact of a mismatched secret."""
    token = make_token(str(user_id_of(world.celeb)), secret=TEST_SECRET)
    assert client.get("/api/user", headers=bearer(token)).json["user"]["username"] == "celeb"
