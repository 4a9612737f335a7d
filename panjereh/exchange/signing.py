"""HMAC-SHA256 signatures over a message's timestamp and body, both ways.

The header is ``X-Panjereh-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, signed)>`` (the
scheme Stripe and GitHub made familiar), where ``signed`` is ``"<t>." + body`` for escalation
webhooks (whose body carries its id) and ``"<t>.<message id>." + body`` for the agency exchange,
both ways (the id travels in ``X-Panjereh-Message-Id``). Signing the timestamp lets the receiver
refuse an old message replayed later; signing the message id lets it refuse a repeat, and stops
a captured message from being sent again under a new id. While an agency's secret is being
rotated, Panjereh signs with both the new and the old secret (``t=…,v1=<new>,v1=<old>``) and
accepts either: a receiver accepts a message if any ``v1`` matches. HMAC proves the message
came from a holder of the agency's key (Panjereh or the agency): it authenticates the exchange
and, kept in the event log with the message id, shows who sent what to anyone who trusts
Panjereh's record of the key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_HEADER = "X-Panjereh-Signature"
MESSAGE_ID_HEADER = "X-Panjereh-Message-Id"
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The signature is missing, malformed, wrong, or too old."""


def _mac(secret: str, timestamp: int, body: bytes, message_id: str | None) -> str:
    prefix = f"{timestamp}." if message_id is None else f"{timestamp}.{message_id}."
    return hmac.new(secret.encode(), prefix.encode() + body, hashlib.sha256).hexdigest()


def sign(
    secret: str,
    timestamp: int,
    body: bytes,
    message_id: str | None = None,
    *,
    also: Sequence[str] = (),
) -> str:
    """The signature header value for ``body`` (with ``message_id``, if given) sent at
    ``timestamp``; ``also``: more secrets to sign with (a rotation's old one)."""
    macs = ",".join(f"v1={_mac(s, timestamp, body, message_id)}" for s in (secret, *also))
    return f"t={timestamp},{macs}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    message_id: str | None = None,
    tolerance: int = TOLERANCE_SECONDS,
    also: Sequence[str] = (),
) -> int:
    """Check a signature header against ``secret`` (or any of ``also``, a rotation's old
    secret); any of its ``v1`` values may match. Returns its timestamp, or raises
    :class:`BadSignature`."""
    if not header:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [value for name, value in parts if name.strip() == "t"]
    given = [value for name, value in parts if name.strip() == "v1"]
    stamp = stamps[0] if len(stamps) == 1 else ""
    if not stamp.isdigit() or not given:
        raise BadSignature(f"{SIGNATURE_HEADER} must read t=<unix seconds>,v1=<hex>")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        raise BadSignature(
            f"the signature's timestamp is more than {tolerance} s from now: a replay, "
            "or a clock that is wrong"
        )
    for key in (secret, *also):
        expected = _mac(key, timestamp, body, message_id)
        if any(hmac.compare_digest(expected, value) for value in given):
            return timestamp
    raise BadSignature("the signature does not match the message id and body")
