"""Settings refuse unsafe secrets outside development; tokens expire by the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from panjereh.auth import tokens
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.config import DEVELOPMENT_SECRET, Settings
from panjereh.errors import Unauthorized

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
ALICE = Principal(id=7, username="alice", role=Role.OFFICER, agency_code="PPO")


def test_development_default_secret_refused_in_production() -> None:
    production = {"env": "production", "password_hash_profile": "default"}
    with pytest.raises(ValidationError, match="development default"):
        Settings(**production)
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(**production, secret_key="short")
    assert Settings(**production, secret_key="s" * 40).secret_key == "s" * 40
    assert Settings(env="development", password_hash_profile="default").secret_key == (
        DEVELOPMENT_SECRET
    )


def test_token_round_trip_and_expiry() -> None:
    token = tokens.issue(principal=ALICE, secret="k" * 40, now=NOW, ttl=timedelta(minutes=15))
    assert tokens.read(token, secret="k" * 40, now=NOW + timedelta(minutes=14)) == ALICE
    with pytest.raises(Unauthorized, match="expired"):
        tokens.read(token, secret="k" * 40, now=NOW + timedelta(minutes=15))
    with pytest.raises(Unauthorized, match="not valid"):
        tokens.read(token, secret="x" * 40, now=NOW)
    # A verified token is remembered; expiry is still checked on every read (above), and a
    # token that differs by a byte is verified afresh.
    body, signature = token.rsplit(".", 1)
    forged = f"{body}.{signature[::-1]}"
    with pytest.raises(Unauthorized, match="not valid"):
        tokens.read(forged, secret="k" * 40, now=NOW)


def test_token_with_unknown_role_refused() -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "1", "role": "emperor", "aud": tokens.AUDIENCE, "exp": int(NOW.timestamp()) + 60},
        "k" * 40,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        tokens.read(forged, secret="k" * 40, now=NOW)
    unsigned = jwt.encode(
        {"sub": "1", "role": "admin", "aud": tokens.AUDIENCE, "exp": int(NOW.timestamp()) + 60},
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        tokens.read(unsigned, secret="k" * 40, now=NOW)


def test_cheap_password_hashing_is_for_tests_only() -> None:
    with pytest.raises(ValidationError, match="test suite only"):
        Settings(env="development", password_hash_profile="cheapest")


def test_production_hashing_is_argon2id_with_default_cost() -> None:
    from argon2 import PasswordHasher

    from panjereh.auth import passwords

    hasher, _ = passwords._hasher("default")
    encoded = hasher.hash("a-long-password")
    assert encoded.startswith("$argon2id$")
    assert PasswordHasher().check_needs_rehash(encoded) is False
