"""Session tokens: HS256 JWTs naming a user id, with an expiry."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from app.core.errors import AuthenticationRequired
from app.core.tokens import TokenIssuer

SECRET = "unit-test-secret-" + "s" * 32
issuer = TokenIssuer(SECRET, ttl_seconds=60)


def signed(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def rejected(token: str, verifier: TokenIssuer = issuer) -> str:
    with pytest.raises(AuthenticationRequired) as caught:
        verifier.verify(token)
    return caught.value.messages[0]


@pytest.mark.parametrize("user_id", [1, 42, 2**31 - 1])
def test_round_trip(user_id: int) -> None:
    assert issuer.verify(issuer.issue(user_id)) == user_id


def test_issued_claims() -> None:
    before = int(time.time())
    claims = jwt.decode(issuer.issue(7), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "7"
    assert before <= claims["iat"] <= before + 1
    assert claims["exp"] == claims["iat"] + 60


def test_expired_token() -> None:
    token = TokenIssuer(SECRET, ttl_seconds=-1).issue(7)
    assert rejected(token) == "token has expired"


def test_wrong_secret() -> None:
    token = TokenIssuer("another-secret-" + "o" * 32, ttl_seconds=60).issue(7)
    assert rejected(token) == "token is invalid"


@pytest.mark.parametrize("part", [0, 1, 2])
def test_tampered_token(part: int) -> None:
    pieces = issuer.issue(7).split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")
    assert rejected(".".join(pieces)) == "token is invalid"


def test_swapped_claims_keep_the_old_signature_invalid() -> None:
    header, _, signature = issuer.issue(7).split(".")
    _, claims, _ = issuer.issue(8).split(".")
    assert rejected(f"{header}.{claims}.{signature}") == "token is invalid"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "jake", "exp": 4102444800},
        {"sub": "-1", "exp": 4102444800},
        {"sub": "1.5", "exp": 4102444800},
        {"sub": "", "exp": 4102444800},
        {"sub": 7, "exp": 4102444800},
        {"sub": "7"},
        {"exp": 4102444800},
        # A subject must be a positive ASCII integer within the id range.
        {"sub": "9" * 30, "exp": 4102444800},
        {"sub": str(2**31), "exp": 4102444800},
        {"sub": "²", "exp": 4102444800},
        {"sub": "٣", "exp": 4102444800},
        {"sub": "0", "exp": 4102444800},
        {"sub": "007", "exp": 4102444800},
        {"sub": "+7", "exp": 4102444800},
        {"sub": " 7", "exp": 4102444800},
        {"sub": "7\n", "exp": 4102444800},
        {"sub": "1" * 5000, "exp": 4102444800},
    ],
)
def test_bad_claims(claims: dict[str, Any]) -> None:
    assert rejected(signed(claims)) == "token is invalid"


def test_other_algorithms_are_refused() -> None:
    claims = {"sub": "7", "exp": 4102444800}
    long_secret = SECRET * 2
    hs512 = TokenIssuer(long_secret, ttl_seconds=60)
    assert rejected(signed(claims, long_secret, algorithm="HS512"), hs512) == "token is invalid"
    assert rejected(jwt.encode(claims, None, algorithm="none")) == "token is invalid"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "...."])
def test_garbage(token: str) -> None:
    assert rejected(token) == "token is invalid"
