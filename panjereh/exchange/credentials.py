"""Machine credentials: API keys with which an agency's system acts for that agency only.

A key reads ``pjk_<key id>_<secret>``: the key id names the credential (it is safe to log),
the secret is 256 random bits shown once and stored only as a SHA-256 digest. Every key of an
agency acts as that agency's system user (``system@<CODE>``), so decisions, events and
idempotency records name the agency's system, and the key id is kept beside them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.errors import Forbidden, Invalid, NotFound, Unauthorized
from panjereh.exchange.models import MachineCredential

KEY_PREFIX = "pjk_"
UNUSABLE_PASSWORD = "!"  # noqa: S105 - not an Argon2 hash: no password ever matches it


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def require(principal: Principal, *roles: Role) -> None:
    """Refuse (403) anyone but the system itself and the given roles."""
    if not (principal.is_system or principal.role in roles):
        raise Forbidden(f"only {' and '.join(f'{r.value}s' for r in roles)} may do this")


def system_user(session: Session, agency_code: str, *, at: datetime) -> User:
    """The agency's system user, created the first time it is needed."""
    username = f"system@{agency_code}"
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(
            username=username,
            password_hash=UNUSABLE_PASSWORD,
            role=Role.AGENCY_SYSTEM.value,
            agency_code=agency_code,
            full_name=f"{agency_code} system",
            created_at=at,
        )
        session.add(user)
        session.flush()
    return user


def create(
    *, session: Session, principal: Principal, agency_code: str, label: str, at: datetime
) -> tuple[MachineCredential, str]:
    """A new key for the agency's system; returns it with the whole key, shown only now."""
    require(principal, Role.ADMIN)
    if session.get(Agency, agency_code) is None:
        raise Invalid(f"agency {agency_code} does not exist", field="agency_code")
    user = system_user(session, agency_code, at=at)
    key_id, secret = secrets.token_hex(8), secrets.token_hex(32)
    credential = MachineCredential(
        key_id=key_id,
        agency_code=agency_code,
        user_id=user.id,
        secret_sha256=_digest(secret),
        label=label[:200],
        created_at=at,
        created_by=principal.username,
    )
    session.add(credential)
    chain.record(
        session,
        kind="credential.created",
        at=at,
        actor=principal,
        data={"agency": agency_code, "key_id": key_id, "label": label[:200]},
    )
    chain.append_pending(session)
    return credential, f"{KEY_PREFIX}{key_id}_{secret}"


def revoke(
    *,
    session: Session,
    principal: Principal,
    key_id: str,
    at: datetime,
    agency_code: str | None = None,
) -> MachineCredential:
    """Revoke a key (of ``agency_code``, if given): the next request made with it is refused."""
    require(principal, Role.ADMIN)
    credential = session.get(MachineCredential, key_id, with_for_update=True)
    if credential is None or agency_code not in (None, credential.agency_code):
        raise NotFound(f"credential {key_id} not found")
    if credential.revoked_at is None:
        credential.revoked_at = at
        chain.record(
            session,
            kind="credential.revoked",
            at=at,
            actor=principal,
            data={"agency": credential.agency_code, "key_id": key_id},
        )
        chain.append_pending(session)
    return credential


def listing(
    *, session: Session, principal: Principal, agency_code: str | None = None
) -> Sequence[MachineCredential]:
    """Every key (without secrets), or one agency's."""
    require(principal, Role.ADMIN)
    query = select(MachineCredential).order_by(MachineCredential.created_at)
    if agency_code is not None:
        query = query.where(MachineCredential.agency_code == agency_code)
    return session.scalars(query).all()


def parse(token: str) -> tuple[str, str] | None:
    """The (key id, secret) of a machine key, or None if ``token`` is not a well-formed one."""
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, _, secret = token[len(KEY_PREFIX) :].partition("_")
    return (key_id, secret) if key_id and secret else None


def authenticate(session: Session, key_id: str, secret: str) -> Principal:
    """The agency system a live key acts as; :class:`Unauthorized` for anything else."""
    row = session.execute(
        select(MachineCredential, User.username, User.is_active)
        .join(User, User.id == MachineCredential.user_id)
        .where(MachineCredential.key_id == key_id)
    ).first()
    if row is None or not hmac.compare_digest(row[0].secret_sha256, _digest(secret)):
        raise Unauthorized("the machine credential is not valid")
    credential, username, active = row
    if credential.revoked_at is not None:
        raise Unauthorized(f"the machine credential {key_id} has been revoked")
    if not active:
        raise Unauthorized(f"the agency system {username} has been deactivated")
    return Principal(
        id=credential.user_id,
        username=username,
        role=Role.AGENCY_SYSTEM,
        agency_code=credential.agency_code,
        key_id=key_id,
    )
