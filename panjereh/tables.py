"""Imports every model so that ``Base.metadata`` knows all tables (for Alembic and tests)."""

from panjereh.agencies.models import Agency, InquiryType
from panjereh.audit.models import ChainHead, Event
from panjereh.auth.models import User
from panjereh.db import Base
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.idempotency.models import IdempotencyRecord
from panjereh.inquiries.models import Inquiry
from panjereh.rules.models import RuleSetRecord

metadata = Base.metadata

__all__ = [
    "Agency",
    "ChainHead",
    "Declaration",
    "DeclarationItem",
    "Event",
    "IdempotencyRecord",
    "Inquiry",
    "InquiryType",
    "RuleSetRecord",
    "User",
    "metadata",
]
