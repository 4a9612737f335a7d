"""HMAC-SHA256 signatures over a message's timestamp and body, both ways.

The header is ``X-Panjereh-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, signed)>`` (the
scheme Stripe and GitHub made familiar), where ``signed`` is ``"<t>." + body`` for escalation
webhooks (whose body carries its id) and ``"<t>.<message id>." + body`` for the agency exchange,
both ways (the id travels in ``X-Panjereh-Message-Id``). Signing the timestamp lets the receiver
refuse an old message replayed later; signing the message id lets it refuse a repeat, and stops
a captured message from being sent again under a new id. HMAC proves the message came from a
holder of the agency's key (Panjereh or the agency): it authenticates the exchange and, kept in
the event log with the message id, shows who sent what to anyone who trusts Panjereh's record of
the key.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Panjereh-Signature"
MESSAGE_ID_HEADER = "X-Panjereh-Message-Id"
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The signature is missing, malformed, wrong, or too old."""


def sign(secret: str, timestamp: int, body: bytes, message_id: str | None = None) -> str:
    """The signature header value for ``body`` (with ``message_id``, if given) sent at
    ``timestamp``."""
    prefix = f"{timestamp}." if message_id is None else f"{timestamp}.{message_id}."
    mac = hmac.new(secret.encode(), prefix.encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    message_id: str | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check a signature header; returns its timestamp, or raises :class:`BadSignature`."""
    if not header:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise BadSignature(f"{SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex>")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise BadSignature(
            f"the signature's timestamp is more than {tolerance} s from now: a replay, "
            "or a clock that is wrong"
        )
    expected = sign(secret, timestamp, body, message_id).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise BadSignature("the signature does not match the message id and body")
    return timestamp
