"""Registration, login and the current user: POST /users, POST /users/login, GET/PUT /user."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.models import User
from app.platform.db import Database
from tests.support.api import JSON_CONTENT_TYPE, Account, Actions, assert_error, bearer, count_rows

JAKE = {"username": "jake", "email": "jake@example.com", "password": "password123"}


def register(client: FlaskClient, **overrides: Any) -> Any:
    user = {**JAKE, **overrides}
    user = {name: value for name, value in user.items() if value is not ...}
    return client.post("/api/users", json={"user": user})


# -- POST /users ---------------------------------------------------------------------------


def test_register_answers_201_with_the_user(client: FlaskClient) -> None:
    response = register(client)
    assert response.status_code == 201
    assert response.content_type == JSON_CONTENT_TYPE
    user = response.json["user"]
    assert set(user) == {"email", "token", "username", "bio", "image"}
    assert user["username"] == "jake"
    assert user["email"] == "jake@example.com"
    assert user["bio"] == ""
    assert user["image"] is None
    assert user["token"].count(".") == 2

    me = client.get("/api/user", headers=bearer(user["token"]))
    assert me.status_code == 200
    assert me.json["user"]["username"] == "jake"


@pytest.mark.parametrize(
    ("overrides", "username", "email"),
    [
        ({"email": "Jake@Example.COM"}, "jake", "jake@example.com"),
        ({"username": "  jake  ", "email": " jake@example.com "}, "jake", "jake@example.com"),
        ({"username": "J.a-k_e9"}, "J.a-k_e9", "jake@example.com"),
    ],
)
def test_register_normalises_input(
    client: FlaskClient, overrides: dict[str, str], username: str, email: str
) -> None:
    response = register(client, **overrides)
    assert response.status_code == 201
    assert response.json["user"]["username"] == username
    assert response.json["user"]["email"] == email


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": ...}, "username can't be blank"),
        ({"username": ""}, "username can't be blank"),
        ({"username": "   "}, "username can't be blank"),
        ({"username": None}, "username must be a string"),
        ({"username": 42}, "username must be a string"),
        ({"username": ["jake"]}, "username must be a string"),
        ({"username": "j" * 65}, "username is too long (maximum is 64 characters)"),
        ({"username": "jake smith"}, "username may only contain letters, digits, '_', '.' and '-'"),
        ({"username": "jake/../x"}, "username may only contain letters, digits, '_', '.' and '-'"),
        ({"email": ...}, "email can't be blank"),
        ({"email": ""}, "email can't be blank"),
        ({"email": 1}, "email must be a string"),
        ({"email": "jake"}, "email is invalid"),
        ({"email": "jake@example"}, "email is invalid"),
        ({"email": "ja ke@example.com"}, "email is invalid"),
        ({"email": "j" * 243 + "@example.com"}, "email is too long (maximum is 254 characters)"),
        ({"password": ...}, "password can't be blank"),
        ({"password": ""}, "password is too short (minimum is 8 characters)"),
        ({"password": "short"}, "password is too short (minimum is 8 characters)"),
        ({"password": 12345678}, "password must be a string"),
        ({"password": "p" * 257}, "password is too long (maximum is 256 characters)"),
    ],
)
def test_register_rejects_bad_fields(
    client: FlaskClient, database: Database, overrides: dict[str, Any], message: str
) -> None:
    assert assert_error(register(client, **overrides), 422) == [message]
    assert count_rows(database, User) == 0


def test_register_reports_every_problem_at_once(client: FlaskClient) -> None:
    response = register(client, username="", email="nope", password="short")
    assert assert_error(response, 422) == [
        "username can't be blank",
        "email is invalid",
        "password is too short (minimum is 8 characters)",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "user is required"),
        ({"users": JAKE}, "user is required"),
        ({"user": None}, "user must be an object"),
        ({"user": "jake"}, "user must be an object"),
        ({"user": [JAKE]}, "user must be an object"),
    ],
)
def test_register_needs_a_user_object(
    client: FlaskClient, database: Database, body: Any, message: str
) -> None:
    assert assert_error(client.post("/api/users", json=body), 422) == [message]
    assert count_rows(database, User) == 0


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        ({"email": "other@example.com"}, ["username has already been taken"]),
        ({"username": "other"}, ["email has already been taken"]),
        ({"username": "other", "email": "JAKE@example.com"}, ["email has already been taken"]),
        ({}, ["username has already been taken", "email has already been taken"]),
    ],
)
def test_register_rejects_taken_username_or_email(
    client: FlaskClient, database: Database, overrides: dict[str, str], messages: list[str]
) -> None:
    assert register(client).status_code == 201
    assert assert_error(register(client, **overrides), 422) == messages
    assert count_rows(database, User) == 1
    assert client.get("/api/profiles/other").status_code == 404


def test_usernames_are_case_sensitive(client: FlaskClient) -> None:
    assert register(client).status_code == 201
    response = register(client, username="Jake", email="capital@example.com")
    assert response.status_code == 201
    assert client.get("/api/profiles/Jake").json["profile"]["username"] == "Jake"


def test_register_stores_a_hash_not_the_password(client: FlaskClient, database: Database) -> None:
    register(client)
    with database.read() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored != JAKE["password"]
    assert stored.startswith("$argon2id$")


# -- POST /users/login --------------------------------------------------------------------


def login(client: FlaskClient, **user: Any) -> Any:
    return client.post("/api/users/login", json={"user": user})


@pytest.mark.parametrize("email", ["jake@example.com", "JAKE@Example.com", "  jake@example.com "])
def test_login_returns_the_user_with_a_working_token(
    client: FlaskClient, actions: Actions, email: str
) -> None:
    actions.register()
    response = login(client, email=email, password="password123")
    assert response.status_code == 200
    user = response.json["user"]
    assert user["username"] == "jake"
    assert user["email"] == "jake@example.com"
    assert set(user) == {"email", "token", "username", "bio", "image"}
    assert client.get("/api/user", headers=bearer(user["token"])).status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("jake@example.com", "wrong-password"),
        ("jake@example.com", "PASSWORD123"),
        ("jake@example.com", " password123"),
        ("jake@example.com", "x"),
        ("nobody@example.com", "password123"),
    ],
)
def test_login_with_wrong_credentials_is_401(
    client: FlaskClient, actions: Actions, email: str, password: str
) -> None:
    actions.register()
    response = login(client, email=email, password=password)
    assert assert_error(response, 401) == ["email or password is invalid"]


@pytest.mark.parametrize(
    ("user", "messages"),
    [
        ({"password": "password123"}, ["email can't be blank"]),
        ({"email": "jake@example.com"}, ["password can't be blank"]),
        ({"email": "", "password": ""}, ["email can't be blank", "password can't be blank"]),
        ({"email": 7, "password": "password123"}, ["email must be a string"]),
        ({"email": "jake@example.com", "password": None}, ["password must be a string"]),
        (
            {"email": "jake@example.com", "password": "p" * 257},
            ["password is too long (maximum is 256 characters)"],
        ),
    ],
)
def test_login_rejects_bad_fields(
    client: FlaskClient, actions: Actions, user: dict[str, Any], messages: list[str]
) -> None:
    actions.register()
    assert assert_error(login(client, **user), 422) == messages


def test_login_needs_a_user_object(client: FlaskClient) -> None:
    response = client.post("/api/users/login", json={"email": "jake@example.com"})
    assert assert_error(response, 422) == ["user is required"]


# -- GET /user ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_current_user_accepts_token_and_bearer_schemes(
    client: FlaskClient, actions: Actions, scheme: str
) -> None:
    jake = actions.register()
    response = client.get("/api/user", headers=bearer(jake.token, scheme))
    assert response.status_code == 200
    assert response.json == {
        "user": {
            "email": "jake@example.com",
            "token": jake.token,
            "username": "jake",
            "bio": "",
            "image": None,
        }
    }


def test_current_user_needs_a_token(client: FlaskClient) -> None:
    assert assert_error(client.get("/api/user"), 401) == ["authorization is required"]


# -- PUT /user ----------------------------------------------------------------------------


def current(client: FlaskClient, account: Account) -> dict[str, Any]:
    response = client.get("/api/user", headers=account.headers)
    assert response.status_code == 200
    return response.json["user"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"bio": "I like to skateboard"}, {"bio": "I like to skateboard"}),
        ({"bio": ""}, {"bio": ""}),
        ({"bio": None}, {"bio": ""}),
        (
            {"image": "https://i.stack.imgur.com/xHWG8.jpg"},
            {"image": "https://i.stack.imgur.com/xHWG8.jpg"},
        ),
        ({"image": None}, {"image": None}),
        ({"email": "Jake@Jake.Jake"}, {"email": "jake@jake.jake"}),
        ({"username": "jacob"}, {"username": "jacob"}),
        ({"username": "jake", "email": "jake@example.com"}, {}),
        (
            {"bio": "b", "image": "i.png", "username": "jacob"},
            {"bio": "b", "image": "i.png", "username": "jacob"},
        ),
    ],
)
def test_update_user_changes_only_the_given_fields(
    client: FlaskClient, actions: Actions, changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    jake = actions.register()
    before = current(client, jake)
    response = client.put("/api/user", json={"user": changes}, headers=jake.headers)
    assert response.status_code == 200
    assert response.json["user"] == before | expected
    # Stored, not just echoed; the token still names the same account.
    assert current(client, jake) == before | expected


def test_update_password_changes_the_login(client: FlaskClient, actions: Actions) -> None:
    jake = actions.register()
    response = client.put(
        "/api/user", json={"user": {"password": "new-password"}}, headers=jake.headers
    )
    assert response.status_code == 200
    assert "password" not in response.json["user"]
    assert login(client, email=jake.email, password="password123").status_code == 401
    assert login(client, email=jake.email, password="new-password").status_code == 200


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({}, ["user must contain at least one of: username, email, password, bio, image"]),
        (
            {"unknown": "x"},
            ["user must contain at least one of: username, email, password, bio, image"],
        ),
        ({"username": ""}, ["username can't be blank"]),
        ({"username": None}, ["username must be a string"]),
        (
            {"username": "no spaces"},
            ["username may only contain letters, digits, '_', '.' and '-'"],
        ),
        ({"email": "nope"}, ["email is invalid"]),
        ({"email": None}, ["email must be a string"]),
        ({"password": "short"}, ["password is too short (minimum is 8 characters)"]),
        ({"bio": 5}, ["bio must be a string"]),
        ({"bio": "b" * 2001}, ["bio is too long (maximum is 2000 characters)"]),
        ({"image": ["x"]}, ["image must be a string"]),
        ({"image": "i" * 2049}, ["image is too long (maximum is 2048 characters)"]),
        ({"bio": "valid", "email": "invalid"}, ["email is invalid"]),
    ],
)
def test_update_user_rejects_bad_fields_and_changes_nothing(
    client: FlaskClient, actions: Actions, changes: dict[str, Any], messages: list[str]
) -> None:
    jake = actions.register()
    before = current(client, jake)
    response = client.put("/api/user", json={"user": changes}, headers=jake.headers)
    assert assert_error(response, 422) == messages
    assert current(client, jake) == before


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"username": "other", "bio": "new bio"}, ["username has already been taken"]),
        ({"email": "OTHER@example.com", "bio": "new bio"}, ["email has already been taken"]),
        (
            {"username": "other", "email": "other@example.com"},
            ["username has already been taken", "email has already been taken"],
        ),
    ],
)
def test_update_user_to_a_taken_name_keeps_the_old_one(
    client: FlaskClient, actions: Actions, changes: dict[str, str], messages: list[str]
) -> None:
    jake = actions.register()
    actions.register("other")
    before = current(client, jake)
    response = client.put("/api/user", json={"user": changes}, headers=jake.headers)
    assert assert_error(response, 422) == messages
    assert current(client, jake) == before
    assert client.get("/api/profiles/jake").status_code == 200


def test_renamed_user_is_found_under_the_new_name_only(
    client: FlaskClient, actions: Actions
) -> None:
    jake = actions.register()
    client.put("/api/user", json={"user": {"username": "jacob"}}, headers=jake.headers)
    assert client.get("/api/profiles/jake").status_code == 404
    assert client.get("/api/profiles/jacob").status_code == 200
    # The old name is free again.
    assert register(client, email="new@example.com").status_code == 201


def test_update_user_needs_a_token(client: FlaskClient) -> None:
    response = client.put("/api/user", json={"user": {"bio": "x"}})
    assert assert_error(response, 401) == ["authorization is required"]
