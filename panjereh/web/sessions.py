"""Browser sessions in a signed cookie, and the CSRF token every form carries.

The session is a small JSON document (who signed in, until when, the CSRF token, a flash
message) signed with HMAC-SHA256 under a key derived from the application's secret; nothing
about it is stored server-side. The cookie is HttpOnly and SameSite=Lax, and outside
development and test it is Secure with the ``__Host-`` prefix (HTTPS only, this host only).

A session expires ``SESSION_HOURS`` after sign-in by the application's clock; signing out
drops the cookie. Every request re-reads the user (one primary-key lookup), so a deactivated
account or a changed role takes effect at once rather than when the cookie runs out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panjereh.config import Settings

SESSION_HOURS = 8
"""A working day: a session signed in in the morning lasts until the offices close."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SCOPE_KEY = "panjereh.web.session"
_KEY_PURPOSE = b"panjereh.web.session.v1"


def cookie_name(settings: Settings) -> str:
    """``__Host-panjereh_session`` where cookies are Secure, ``panjereh_session`` otherwise."""
    return "panjereh_session" if not secure_cookies(settings) else "__Host-panjereh_session"


def secure_cookies(settings: Settings) -> bool:
    """Cookies are Secure everywhere but a developer's laptop and the tests (plain HTTP)."""
    return settings.env not in ("development", "test")


def signing_key(secret: str) -> bytes:
    """A key for sessions only, derived from the application secret (not the JWT key itself)."""
    return hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(data: dict[str, Any], key: bytes) -> str:
    """``payload.signature``, both base64url."""
    payload = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def decode(value: str, key: bytes) -> dict[str, Any] | None:
    """The session in a cookie value, or None if it is malformed or its signature is wrong."""
    payload, _, signature = value.partition(".")
    if not payload or not signature:
        return None
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        data = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


class Session:
    """One request's session: read lazily from the cookie, written back only if changed."""

    def __init__(self, raw: str | None, key: bytes, now: Callable[[], datetime]) -> None:
        self._raw, self._key, self._now = raw, key, now
        self._data: dict[str, Any] | None = None
        self.modified = False

    @property
    def data(self) -> dict[str, Any]:
        """The session's content ({} for a new or expired one)."""
        if self._data is None:
            loaded = decode(self._raw, self._key) if self._raw else None
            expires = loaded.get("exp") if loaded else None
            if (
                loaded is not None
                and isinstance(expires, int)
                and expires > self._now().timestamp()
            ):
                self._data = loaded
            else:
                self._data = {}
        return self._data

    @property
    def user_id(self) -> int | None:
        """The signed-in user's id, if any."""
        uid = self.data.get("uid")
        return uid if isinstance(uid, int) else None

    def csrf_token(self) -> str:
        """This session's CSRF token (a session gets one the first time a form needs it)."""
        token = self.data.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self._set("csrf", token)
        return token

    def csrf_matches(self, token: str | None) -> bool:
        """Whether a submitted token is this session's (compared in constant time)."""
        expected = self.data.get("csrf")
        if not isinstance(expected, str) or not token:
            return False
        return hmac.compare_digest(expected.encode(), token.encode())

    @property
    def stamp(self) -> str | None:
        """The fingerprint of the password the user signed in with (see ``credentials_stamp``)."""
        stamp = self.data.get("pw")
        return stamp if isinstance(stamp, str) else None

    def sign_in(self, user_id: int, stamp: str) -> None:
        """Start a fresh session for a user: a new CSRF token, so no pre-login token survives.
        ``stamp`` fingerprints their password: the session ends when it changes."""
        now = int(self._now().timestamp())
        self._data = {
            "uid": user_id,
            "pw": stamp,
            "csrf": secrets.token_urlsafe(32),
            "iat": now,
            "exp": now + SESSION_HOURS * 3600,
        }
        self.modified = True

    def clear(self) -> None:
        """Sign out: the cookie is dropped."""
        self._data = {}
        self.modified = True

    def flash(self, message: str) -> None:
        """A message to show once, on the next page (already translated)."""
        self._set("flash", message)

    def pop_flash(self) -> str | None:
        """The message left for this page, removed from the session."""
        message = self.data.get("flash")
        if message is None:
            return None
        self.data.pop("flash")
        self.modified = True
        return str(message)

    def _set(self, name: str, value: Any) -> None:
        data = self.data
        if "exp" not in data:
            # An anonymous session (for the sign-in form's CSRF token) lasts as long too.
            data["exp"] = int(self._now().timestamp()) + SESSION_HOURS * 3600
        data[name] = value
        self.modified = True

    def cookie_value(self) -> str | None:
        """What to store in the cookie (None: delete it)."""
        return encode(self.data, self._key) if self.data else None


class SessionMiddleware:
    """Attach a lazy :class:`Session` to every HTTP request and write it back if it changed."""

    def __init__(self, app: ASGIApp, *, settings: Settings, now: Callable[[], datetime]) -> None:
        self.app = app
        self.key = signing_key(settings.secret_key)
        self.name = cookie_name(settings)
        self.secure = secure_cookies(settings)
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = Session(self._read(scope), self.key, self.now)
        scope[SCOPE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                headers.append("Set-Cookie", self._cookie(session.cookie_value()))
                headers.append("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _read(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except CookieError:  # a malformed Cookie header means no session
                    return None
                morsel = jar.get(self.name)
                return morsel.value if morsel else None
        return None

    def _cookie(self, value: str | None) -> str:
        parts = [f"{self.name}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if value is None:
            parts.append("Max-Age=0")
        else:
            parts.append(f"Max-Age={SESSION_HOURS * 3600}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
