"""Users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, UTCDateTime


class Role(StrEnum):
    """What a user may do; an officer and an agency head belong to one agency."""

    TRADER = "trader"
    OFFICER = "officer"
    AGENCY_HEAD = "agency_head"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # An agency's own system, signed in with a machine credential (never a password).
    AGENCY_SYSTEM = "agency_system"


AGENCY_ROLES = frozenset({Role.OFFICER, Role.AGENCY_HEAD})
# Who reads an agency's queue and answers its inquiries: its people and its system.
ANSWERING_ROLES = AGENCY_ROLES | {Role.AGENCY_SYSTEM}
# Roles a person can hold (the ones a password signs in to).
PERSON_ROLES = tuple(r for r in Role if r != Role.AGENCY_SYSTEM)


class User(Base):
    """A person (or later, a machine) who signs in to Panjereh."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), default=None)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str | None] = mapped_column(String(8), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """Failed sign-ins in a row under one username (known or not), and the lock they earned.

    Kept per username rather than on the user, so that an unknown name is throttled like a
    known one and the answer does not tell which names exist.
    """

    __tablename__ = "sign_in_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
