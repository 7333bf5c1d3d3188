"""Registration, login and the current user's account.

Reading the current account and changing it are Core statements, so no function loads the
ORM; registration and login (the monolith's) import the ORM classes when they run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app.core import shapes
from app.core.errors import AuthenticationRequired, ValidationFailed
from app.core.services._common import ensure_account, flagged_values, flags
from app.core.tables import users

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.passwords import Passwords
    from app.core.services._common import Executor, Writer
    from app.core.tokens import TokenIssuer
    from app.core.validation import LoginRequest, NewUser

_ACCOUNT = select(users.c.email, users.c.username, users.c.bio, users.c.image).where(
    users.c.id == bindparam("user_id")
)
# The account's columns a client may change.
_CHANGEABLE = ("username", "email", "bio", "image")
# Whether another account has this username (email): `other_than` is the account being
# changed, or 0 (no account has that id) for a new one.
_USERNAME_TAKEN, _EMAIL_TAKEN = (
    select(users.c.id).where(
        users.c[name] == bindparam("value"), users.c.id != bindparam("other_than")
    )
    for name in ("username", "email")
)
# One UPDATE for any set of changes (see flagged_values).
_WRITABLE = (*_CHANGEABLE, "password_hash")
_UPDATE_ACCOUNT = (
    update(users).where(users.c.id == bindparam("user_id")).values(flagged_values(users, _WRITABLE))
)

__all__ = ["current_user", "ensure_account", "login", "register", "update_user"]


def _ensure_available(
    session: Writer, *, username: str | None, email: str | None, exclude_id: int | None = None
) -> None:
    problems = []
    for label, value, query in (
        ("username", username, _USERNAME_TAKEN),
        ("email", email, _EMAIL_TAKEN),
    ):
        if value is None:
            continue
        if session.scalar(query, {"value": value, "other_than": exclude_id or 0}) is not None:
            problems.append(f"{label} has already been taken")
    if problems:
        raise ValidationFailed(*problems)


def _flush_unique(session: Session) -> None:
    """Flush in a savepoint: a concurrent duplicate becomes a 422, and the outer
    transaction stays usable."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ValidationFailed("username or email has already been taken") from None


def register(
    session: Session, passwords: Passwords, tokens: TokenIssuer, new: NewUser
) -> dict[str, Any]:
    from app.core.models import User

    _ensure_available(session, username=new.username, email=new.email)
    account = User(
        username=new.username,
        email=new.email,
        password_hash=passwords.hash(new.password),
        bio="",
        image=None,
    )
    session.add(account)
    _flush_unique(session)
    return {"user": shapes.user(account, tokens.issue(account.id))}


def login(
    session: Session, passwords: Passwords, tokens: TokenIssuer, credentials: LoginRequest
) -> dict[str, Any]:
    from app.core.models import User

    account = session.scalar(select(User).where(User.email == credentials.email))
    if account is None or not passwords.verify(account.password_hash, credentials.password):
        raise AuthenticationRequired("email or password is invalid")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(credentials.password)
    return {"user": shapes.user(account, tokens.issue(account.id))}


def _account(executor: Executor, user_id: int) -> Any:
    account = executor.execute(_ACCOUNT, {"user_id": user_id}).first()
    if account is None:
        # A valid signature for an account that no longer exists.
        raise AuthenticationRequired("token is invalid")
    return account


def current_user(executor: Executor, user_id: int, token: str) -> dict[str, Any]:
    return {"user": shapes.user(_account(executor, user_id), token)}


def update_user(
    session: Writer, passwords: Passwords, user_id: int, token: str, changes: dict[str, Any]
) -> dict[str, Any]:
    account = _account(session, user_id)._asdict()
    _ensure_available(
        session,
        username=changes.get("username"),
        email=changes.get("email"),
        exclude_id=user_id,
    )
    wanted = {name: changes[name] for name in _CHANGEABLE if name in changes}
    if "bio" in wanted:
        wanted["bio"] = wanted["bio"] or ""
    # Only what differs is written (so a change to nothing leaves updated_at alone).
    values = {name: value for name, value in wanted.items() if account[name] != value}
    if "password" in changes:
        values["password_hash"] = passwords.hash(changes["password"])
    if values:
        try:
            with session.begin_nested():
                changed = flags(_WRITABLE, values)
                session.execute(_UPDATE_ACCOUNT, {"user_id": user_id, **changed})
        except IntegrityError:
            # A concurrent request took the username or email since the check.
            raise ValidationFailed("username or email has already been taken") from None
    return {"user": shapes.user(SimpleNamespace(**(account | wanted)), token)}
