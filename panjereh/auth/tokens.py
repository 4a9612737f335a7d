"""Short-lived access tokens (JWT, HS256) carrying who the user is and what role they hold."""

from __future__ import annotations

from datetime import datetime, timedelta
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
        if int(claims["exp"]) <= now.timestamp():
            raise jwt.ExpiredSignatureError
        return Principal(
            id=int(claims["sub"]),
            username=str(claims.get("name", "")),
            role=Role(claims["role"]),
            agency_code=claims.get("agency"),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; sign in again") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthorized("the access token is not valid") from None
