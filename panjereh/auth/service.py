"""Creating users and checking credentials."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.auth import throttle
from panjereh.auth.models import AGENCY_ROLES, PERSON_ROLES, Role, User
from panjereh.auth.passwords import hash_password, verify_password
from panjereh.auth.principal import SYSTEM, Principal
from panjereh.config import Settings
from panjereh.dashboard import signins
from panjereh.errors import Conflict, Forbidden, Invalid, NotFound

MIN_PASSWORD_LENGTH = 10
# Deliberately loose: the mail server is the judge; this only catches obvious typos.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    agency_code: str | None,
    at: datetime,
    full_name: str = "",
    province: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
    by: Principal = SYSTEM,
) -> User:
    """Add a user; officers and agency heads must name their agency, others must not.

    ``password_hash`` (an Argon2 hash of ``password``, made once) lets many accounts that share
    one password be created without hashing it again for each: the demo loader does this.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"the password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if role not in PERSON_ROLES:
        raise Invalid("an agency's system gets a machine credential, not a password", field="role")
    if role in AGENCY_ROLES:
        if agency_code is None or session.get(Agency, agency_code) is None:
            raise Invalid(f"a {role.value} must belong to a known agency", field="agency")
    elif agency_code is not None:
        raise Invalid(f"a {role.value} does not belong to an agency", field="agency")
    if email is not None and not _EMAIL.fullmatch(email):
        raise Invalid(f"{email!r} is not an email address", field="email")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    user = User(
        username=username,
        password_hash=password_hash or hash_password(password),
        role=role.value,
        agency_code=agency_code,
        full_name=full_name,
        province=province,
        email=email,
        created_at=at,
    )
    session.add(user)
    session.flush()
    chain.record(
        session,
        kind="user.created",
        at=at,
        actor=by,
        data={"user_id": user.id, "username": username, "role": role.value, "agency": agency_code},
    )
    return user


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """A sign-in under way: the password hash to check it against (None: no such user)."""

    username: str
    user_id: int | None
    password_hash: str | None


def sign_in_attempt(*, session: Session, username: str, now: datetime) -> SignInAttempt:
    """The first step of signing in, reading only: refused at once if the username is locked
    by too many failures (:class:`TooManyRequests`, before any password is checked), else the
    hash to check the password against. The caller checks it outside any transaction (it
    takes a tenth of a second: see ``panjereh.auth.checking``), then calls
    :func:`sign_in_outcome`."""
    throttle.check(session, username, now=now)
    user = session.scalars(select(User).where(User.username == username)).first()
    return SignInAttempt(username, user.id if user else None, user.password_hash if user else None)


def sign_in_outcome(
    *, session: Session, attempt: SignInAttempt, right: bool, now: datetime, settings: Settings
) -> User | None:
    """The last step: the user, if the password was ``right`` for the attempt's hash (still
    the user's) and the account is an active person's; None otherwise. A failure is counted,
    a success clears the count and is counted for the adoption figures. The caller commits
    in both cases (a failure must stay counted although its request fails)."""
    user = session.get(User, attempt.user_id) if attempt.user_id is not None else None
    if (
        user is None
        or not right
        or user.password_hash != attempt.password_hash  # changed meanwhile
        or not user.is_active
        or user.role == Role.AGENCY_SYSTEM  # an agency's system uses its machine key only
    ):
        throttle.failed(session, attempt.username, now=now, settings=settings)
        return None
    throttle.succeeded(session, attempt.username)
    signins.record(session, user_id=user.id, role=user.role, province=user.province, at=now)
    return user


class WrongPassword(Invalid):
    """The current password given to change it is wrong (counted as a failed sign-in: the
    caller commits before answering)."""


def _check_new(password: str, *, current: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"the new password must be at least {MIN_PASSWORD_LENGTH} characters",
            field="new_password",
        )
    if current is not None and password == current:
        raise Invalid("the new password must differ from the current one", field="new_password")


def password_change_attempt(
    *, session: Session, principal: Principal, now: datetime
) -> SignInAttempt:
    """The first step of changing one's own password, reading only: refused if the principal
    has no password (an agency's system) or its username is locked by failed sign-ins, else
    the hash the current password is checked against. The caller checks it and hashes the
    new one outside any transaction (:func:`new_password_hash`), then calls
    :func:`password_change_outcome` (see ``panjereh.auth.checking``)."""
    if principal.role not in PERSON_ROLES or principal.id is None:
        raise Forbidden("only people have passwords; an agency's system has machine keys")
    throttle.check(session, principal.username, now=now)
    user = session.get(User, principal.id)
    return SignInAttempt(principal.username, principal.id, user.password_hash if user else None)


def new_password_hash(attempt: SignInAttempt, *, current: str, new: str) -> str | None:
    """The hash of the ``new`` password if ``current`` is right (None if it is wrong); a new
    password that is too short or the current one is :class:`Invalid`. Slow (two Argon2
    hashes), and touches no store."""
    if not verify_password(attempt.password_hash, current):
        return None
    _check_new(new, current=current)
    return hash_password(new)


def password_change_outcome(
    *,
    session: Session,
    principal: Principal,
    attempt: SignInAttempt,
    new_hash: str | None,
    at: datetime,
    settings: Settings,
) -> User:
    """The last step: store the new hash and return the user, or count a wrong current
    password (``new_hash`` None) as a failed sign-in (so it is no way around the throttle)
    and raise :class:`WrongPassword`. A password changed meanwhile (another session, an
    operator) is a :class:`Conflict`. Web sessions signed in with the old password end at
    their next request (see ``panjereh.web.core.page``); access tokens run out. The caller
    commits in every case (a failure must stay counted)."""
    user = session.get(User, principal.id, with_for_update=True)
    if user is None or new_hash is None:
        throttle.failed(session, principal.username, now=at, settings=settings)
        raise WrongPassword("the current password is wrong", field="current_password")
    if user.password_hash != attempt.password_hash:
        raise Conflict("the password was changed meanwhile; sign in again and retry")
    _set_password(session, user, new_hash, kind="user.password_changed", actor=principal, at=at)
    return user


def reset_password(
    *, session: Session, username: str, password: str, at: datetime, by: Principal = SYSTEM
) -> User:
    """An operator sets a user's password (``panjereh users set-password``): no current
    password is asked for, and any sign-in lock on the username is lifted."""
    user = session.scalars(select(User).where(User.username == username).with_for_update()).first()
    if user is None or user.role not in PERSON_ROLES:
        raise NotFound(f"no person signs in as {username!r}")
    _check_new(password)
    _set_password(
        session, user, hash_password(password), kind="user.password_reset", actor=by, at=at
    )
    return user


def _set_password(
    session: Session, user: User, password_hash: str, *, kind: str, actor: Principal, at: datetime
) -> None:
    """Store a new password's hash, lift any sign-in lock, and record it (never the password)."""
    user.password_hash = password_hash
    throttle.succeeded(session, user.username)
    chain.record(
        session, kind=kind, at=at, actor=actor, data={"user_id": user.id, "username": user.username}
    )
    chain.append_pending(session)


def credentials_stamp(user: User) -> str:
    """A short fingerprint of the user's password hash: a web session remembers it at sign-in
    and ends when it no longer matches (the password was changed)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def principal_of(user: User) -> Principal:
    """The principal for a stored user."""
    return Principal(
        id=user.id, username=user.username, role=Role(user.role), agency_code=user.agency_code
    )


def set_active(
    *, session: Session, principal: Principal, user_id: int, active: bool, at: datetime
) -> User:
    """Deactivate or reactivate an account (administrators). A deactivated user cannot sign
    in, and their web sessions end at the next request; nothing they did is touched. An
    administrator cannot deactivate their own account (someone must be left to undo it)."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators deactivate or reactivate users")
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if not active and user.id == principal.id:
        raise Invalid("administrators cannot deactivate their own account", field="user")
    if user.is_active == active:
        return user
    user.is_active = active
    chain.record(
        session,
        kind="user.reactivated" if active else "user.deactivated",
        at=at,
        actor=principal,
        data={"user_id": user.id, "username": user.username, "role": user.role},
    )
    chain.append_pending(session)
    return user
