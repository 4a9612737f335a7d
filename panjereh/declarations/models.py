"""Declarations and their items."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.db import Base, ExactDecimal, UTCDateTime

if TYPE_CHECKING:
    from panjereh.inquiries.models import Inquiry


class DeclarationKind(StrEnum):
    """The customs procedure the goods are declared for."""

    IMPORT = "import"
    EXPORT = "export"
    TRANSIT = "transit"


class DeclarationStatus(StrEnum):
    """Where the declaration stands; always derived from its inquiries (see ``status_of``)."""

    UNDER_INQUIRY = "under_inquiry"
    AWAITING_TRADER = "awaiting_trader"
    CLEARED = "cleared"
    REFUSED = "refused"
    CANCELLED = "cancelled"


OPEN_DECLARATION_STATUSES = frozenset(
    {DeclarationStatus.UNDER_INQUIRY, DeclarationStatus.AWAITING_TRADER}
)


class Declaration(Base):
    """One filing: parties, customs office, province and items."""

    __tablename__ = "declarations"
    __table_args__ = (Index("ix_declarations_trader_status", "trader_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    customs_office: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list[DeclarationItem]] = relationship(
        back_populates="declaration", order_by="DeclarationItem.line_no"
    )
    inquiries: Mapped[list[Inquiry]] = relationship(order_by="Inquiry.id")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the mapper


class DeclarationItem(Base):
    """One goods line."""

    __tablename__ = "declaration_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    hs_code: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(String(500))
    origin_country: Mapped[str] = mapped_column(String(2))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))

    declaration: Mapped[Declaration] = relationship(back_populates="items")
