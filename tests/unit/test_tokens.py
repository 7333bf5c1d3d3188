"""Session tokens: HS256 JWTs naming a user id, with an expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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


# --- against PyJWT, which made and checked these tokens before (a test dependency now) ---


def pyjwt_verdict(token: str, secret: str = SECRET) -> int | str:
    """What the PyJWT-based verify() gave: the user id, or its message."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        return "token has expired"
    except jwt.PyJWTError:
        return "token is invalid"
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdigit():
        return "token is invalid"
    if subject.startswith("0") or int(subject) > 2**31 - 1:
        return "token is invalid"
    return int(subject)


def verdict(token: str, verifier: TokenIssuer = issuer) -> int | str:
    try:
        return verifier.verify(token)
    except AuthenticationRequired as error:
        return error.messages[0]


def test_an_issued_token_is_byte_for_byte_pyjwts(monkeypatch: pytest.MonkeyPatch) -> None:
    for now in (0, 1_700_000_000, 4_102_444_800):
        monkeypatch.setattr(time, "time_ns", lambda now=now: now * 10**9 + 750_000_000)
        for user_id in (1, 7, 2**31 - 1):
            claims = {"sub": str(user_id), "iat": now, "exp": now + 60}
            assert issuer.issue(user_id) == jwt.encode(claims, SECRET, algorithm="HS256")


NOW = int(time.time())
LATER = NOW + 3600
CLAIMS = {
    "good": {"sub": "7", "exp": LATER},
    "with iat": {"sub": "7", "iat": NOW - 5, "exp": LATER},
    "float exp": {"sub": "7", "exp": LATER + 0.5},
    "float exp just past": {"sub": "7", "exp": NOW - 0.5},
    "expired": {"sub": "7", "iat": NOW - 100, "exp": NOW - 10},
    "expired and iat ahead": {"sub": "7", "iat": LATER, "exp": NOW - 10},
    "expired with aud": {"sub": "7", "exp": NOW - 10, "aud": "someone"},
    "expired, no sub": {"exp": NOW - 10},
    "iat ahead": {"sub": "7", "iat": LATER, "exp": LATER},
    "nbf ahead": {"sub": "7", "nbf": LATER, "exp": LATER},
    "nbf past": {"sub": "7", "nbf": NOW - 5, "exp": LATER},
    "aud": {"sub": "7", "exp": LATER, "aud": "someone"},
    "empty aud": {"sub": "7", "exp": LATER, "aud": ""},
    "jti": {"sub": "7", "exp": LATER, "jti": "abc"},
    "number jti": {"sub": "7", "exp": LATER, "jti": 5},
    "null exp": {"sub": "7", "exp": None},
    "bool exp": {"sub": "7", "exp": True},
    "list exp": {"sub": "7", "exp": [LATER]},
    "huge exp": {"sub": "7", "exp": 10**30},
    "null sub": {"sub": None, "exp": LATER},
    "other claims": {"sub": "7", "exp": LATER, "name": "jake", "admin": True},
    "bad iat": {"sub": "7", "iat": "yesterday", "exp": LATER},
}
HEADERS = {
    "none": None,
    "kid": {"kid": "key-1"},
    "no typ": {"typ": None},
    "crit": {"crit": ["b64"], "b64": False},
    "b64 true": {"b64": True},
    "empty crit": {"crit": []},
}


@pytest.mark.parametrize("header", HEADERS, ids=str)
@pytest.mark.parametrize("claims", CLAIMS, ids=str)
def test_the_same_verdict_as_pyjwt(claims: str, header: str) -> None:
    token = jwt.encode(CLAIMS[claims], SECRET, algorithm="HS256", headers=HEADERS[header])
    assert verdict(token) == pyjwt_verdict(token)


@pytest.mark.parametrize("claims", CLAIMS, ids=str)
def test_the_same_verdict_as_pyjwt_for_another_secret_or_algorithm(claims: str) -> None:
    for secret, algorithm in [("another-secret-" + "o" * 32, "HS256"), (SECRET, "HS384")]:
        token = jwt.encode(CLAIMS[claims], secret, algorithm=algorithm)
        assert verdict(token) == pyjwt_verdict(token) == "token is invalid"


def test_a_mangled_token_is_never_accepted_where_pyjwt_refuses_it() -> None:
    """Every one-character change of a good token: refused here whenever PyJWT refuses it,
    and accepted only for the same user. (Where PyJWT's lenient base64 decoding still
    reads a segment, with stray padding say, this module may refuse: it is stricter.)"""
    good = jwt.encode({"sub": "7", "exp": 4102444800}, SECRET, algorithm="HS256")
    accepted = 0
    for position in range(len(good) + 1):
        for replacement in ("", "A", "=", ".", " ", "é", "-"):
            for end in (position, position + 1):
                token = good[:position] + replacement + good[end:]
                ours = verdict(token)
                if ours == 7:
                    accepted += 1
                    assert pyjwt_verdict(token) == 7, token
                else:
                    assert ours == "token is invalid", token
    assert accepted >= 1  # the unchanged token, rebuilt by replacing a character by itself


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        # Padding, whitespace and the standard alphabet are not base64url as JWS writes it.
        "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA",
        "eyJhbGciOiJIUzI1NiJ9.e30 .AAAA",
        "eyJhbGciOiJIUzI1NiJ9.e30.AA+/",
        "eyJhbGciOiJIUzI1NiJ9.e30.A",
        "\ud800.e30.AAAA",
    ],
)
def test_malformed_segments(token: str) -> None:
    assert rejected(token) == "token is invalid"


def test_a_signed_header_or_claims_that_are_not_json_objects() -> None:
    alg = b'{"alg":"HS256"}'
    good = b'{"sub":"7","exp":4102444800}'
    for header, payload in [
        (b"[]", good),
        (b"{", good),
        (b"null", good),
        (alg, b"[1]"),
        (alg, b"\xff"),
        (alg, b"null"),
    ]:
        assert rejected(_signed(header, payload)) == "token is invalid"


# Headers PyJWT will not make (it fixes `alg` and checks what it writes) but reads, each
# with a valid HS256 signature: the signature alone decides none of these.
SIGNED_HEADERS = [
    b'{"alg":"HS256"}',
    b'{"alg":"none"}',
    b'{"alg":"HS512"}',
    b'{"alg":"hs256"}',
    b'{"alg":["HS256"]}',
    b'{"typ":"JWT"}',
    b'{"alg":"HS256","kid":"5"}',
    b'{"alg":"HS256","kid":5}',
    b'{"alg":"HS256","kid":null}',
    b'{"alg":"HS256","b64":false}',
    b'{"alg":"HS256","b64":true}',
    b'{"alg":"HS256","b64":0}',
    b'{"alg":"HS256","crit":["b64"],"b64":true}',
    b'{"alg":"HS256","crit":["b64"],"b64":false}',
    b'{"alg":"HS256","crit":["b64"]}',
    b'{"alg":"HS256","crit":[]}',
    b'{"alg":"HS256","crit":"b64","b64":true}',
    b'{"alg":"HS256","crit":["exp"],"exp":1}',
    b'{"alg":"HS256","crit":[1]}',
    b'{"alg":"HS256","crit":null}',
]
PAST = NOW - 10
SIGNED_CLAIMS = [
    b'{"sub":"7","exp":%d}' % LATER,
    b'{"sub":"7","exp":%d}' % PAST,
    b'{"sub":null,"exp":%d}' % PAST,
    b'{"sub":"7","exp":null}',
    b'{"sub":"7","exp":"%d"}' % PAST,
    b'{"sub":"7","exp":"%d"}' % LATER,
    b'{"sub":"7","exp":" %d "}' % LATER,
    b'{"sub":"7","iat":"%d","exp":%d}' % (PAST, PAST),
    b'{"sub":"7","nbf":"%d","exp":%d}' % (LATER, LATER),
    b'{"sub":"7","exp":%d.9}' % PAST,
    b'{"sub":"7","exp":NaN}',
    b'{"sub":"7","exp":Infinity}',
    b'{"sub":"7","exp":1e400}',
    b'{"sub":"7","exp":true}',
    b'{"sub":"7","exp":%d,"aud":""}' % LATER,
    b'{"sub":"7","exp":%d,"aud":"x"}' % PAST,
    b'{"sub":"7","exp":%d,"jti":null}' % LATER,
    b'{"sub":"7","sub":"8","exp":%d}' % LATER,
]


@pytest.mark.parametrize("header", SIGNED_HEADERS, ids=lambda h: h.decode())
def test_hand_signed_tokens_get_pyjwts_verdict(header: bytes) -> None:
    for payload in SIGNED_CLAIMS:
        token = _signed(header, payload)
        assert verdict(token) == pyjwt_verdict(token), payload


@pytest.mark.parametrize("where", ["header", "claims"])
def test_json_nested_too_deeply_is_invalid_not_a_crash(where: str) -> None:
    deep = b'{"sub":"7","exp":%d,"x":' % LATER + b"[" * 100_000 + b"]" * 100_000 + b"}"
    header, payload = (deep, b"{}") if where == "header" else (b'{"alg":"HS256"}', deep)
    assert rejected(_signed(header, payload)) == "token is invalid"


def _signed(header: bytes, payload: bytes) -> str:
    return _signed_raw(_b64(header), _b64(payload))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_signature_spelled_other_than_canonically_is_refused() -> None:
    """A base64url segment whose length is not a multiple of 4 ends in a character with
    bits that decoding drops: flipping one of them spells the same bytes another way.
    That token is not the one that was signed, and PyJWT refuses it too. Only the
    signature can show it: respelling the header or the claims changes what the
    signature covers, so the signature check refuses them anyway."""
    segment = 2  # 32 bytes: 43 characters, the last carrying 2 dropped bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    pieces = issuer.issue(7).split(".")
    original = pieces[segment]
    last = alphabet.index(original[-1])
    pieces[segment] = original[:-1] + alphabet[last ^ 1]  # the lowest bit is dropped
    assert _b64_bytes(pieces[segment]) == _b64_bytes(original)
    token = ".".join(pieces)
    assert rejected(token) == "token is invalid"
    assert pyjwt_verdict(token) == "token is invalid"


def _b64_bytes(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_padding_is_refused_even_under_a_valid_signature() -> None:
    """Stricter than PyJWT, which takes trailing '=' (some issuers write it): no issuer
    of these tokens does, so a padded segment is not one of them."""
    claims = _b64(b'{"sub":"7","exp":4102444800}') + "=="
    padded_claims = _signed_raw(_b64(b'{"alg":"HS256"}'), claims)
    padded_signature = _signed(b'{"alg":"HS256"}', b'{"sub":"7","exp":4102444800}') + "="
    assert len(claims) % 4 == 0 and len(padded_signature.split(".")[2]) % 4 == 0
    for token in (padded_claims, padded_signature):
        assert pyjwt_verdict(token) == 7
        assert rejected(token) == "token is invalid"


def _signed_raw(header: str, payload: str) -> str:
    signature = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_moment_just_before_a_second_is_read_as_pyjwt_reads_it(
    claim: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 ns before the second E, time.time() returns E itself (a float's step there is
    about 480 ns, 240 ns at today's dates); PyJWT's clock, in whole microseconds rounded
    down, is still before E. A token expiring at E is still valid then, and one issued
    (or valid from) E is not yet."""
    second = 4_102_444_800
    monkeypatch.setattr(time, "time_ns", lambda: second * 10**9 - 50)
    monkeypatch.setattr(time, "time", lambda: (second * 10**9 - 50) / 10**9)
    claims = {"sub": "7", "exp": second} if claim == "exp" else {"sub": "7", claim: second}
    claims.setdefault("exp", second + 60)
    token = _signed(b'{"alg":"HS256"}', json.dumps(claims).encode())
    expected = 7 if claim == "exp" else "token is invalid"
    assert verdict(token) == expected
