"""Short-lived access tokens (JWT, HS256) carrying who the user is and what role they hold."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "panjereh-api"


def issue(*, principal: Principal, secret: str, now: datetime, ttl: timedelta) -> str:
    """A signed token for ``principal`` that expires after ``ttl``."""
    if principal.role is None or principal.id is None:
        raise ValueError("tokens are issued to users only")
    claims: dict[str, Any] = {
        "sub": str(principal.id),
        "name": principal.username,
        "role": principal.role.value,
        "agency": principal.agency_code,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(token: str, *, secret: str, now: datetime) -> Principal:
    """The principal a valid token names; :class:`Unauthorized` for anything else.

    Expiry is checked against the application's clock (not PyJWT's wall clock), so the one
    clock that dates every event also decides when a token has run out.
    """
    expires, principal = _verified(token, secret)
    if expires <= now.timestamp():
        raise Unauthorized("the access token has expired; sign in again")
    return principal


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[int, Principal]:
    """A token's expiry and principal, once its signature and claims check out.

    Every request carries its token, and checking one costs more than most requests' SQL:
    the answer for the same token (the same bytes, so the same signature) is remembered.
    Expiry is not: the caller checks it on every use. A refused token is not remembered.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={
                "require": ["sub", "exp", "role", "aud"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        return int(claims["exp"]), Principal(
            id=int(claims["sub"]),
            username=str(claims.get("name", "")),
            role=Role(claims["role"]),
            agency_code=claims.get("agency"),
        )
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("the access token is not valid") from None
