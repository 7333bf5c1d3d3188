"""Password hashing with Argon2id (argon2-cffi).

argon2-cffi is imported at the first hash or check, not with this module: importing it
takes about 20 ms, which a request that changes an account without touching its password
(the usual update) would otherwise pay at cold start. A request that does hash pays it
once, beside the tens of milliseconds the hash itself costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._costs = (time_cost, memory_cost_kib, parallelism)
        self._made: PasswordHasher | None = None

    @property
    def _hasher(self) -> PasswordHasher:
        if self._made is None:
            from argon2 import PasswordHasher

            time_cost, memory_cost_kib, parallelism = self._costs
            self._made = PasswordHasher(
                time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
            )
        return self._made

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
