"""Password hashing with Argon2id.

Production uses argon2-cffi's default parameters (RFC 9106's low-memory recommendation). The
test suite may ask for the cheapest parameters (``PANJEREH_PASSWORD_HASH_PROFILE=cheapest``,
refused outside ``PANJEREH_ENV=test``): the same algorithm and code path, without spending a
quarter of a second per sign-in thousands of times.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from panjereh.config import get_settings


@cache
def _hasher(profile: str) -> tuple[PasswordHasher, str]:
    hasher = (
        PasswordHasher.from_parameters(profiles.CHEAPEST)
        if profile == "cheapest"
        else PasswordHasher()
    )
    # Verifying against this when the user does not exist keeps the time of a failed sign-in
    # the same whether or not the username is known.
    return hasher, hasher.hash("panjereh-no-such-user")


def _current() -> tuple[PasswordHasher, str]:
    return _hasher(get_settings().password_hash_profile)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` with a fresh salt."""
    return _current()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; always spends the same effort, even for unknown users."""
    hasher, dummy = _current()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
