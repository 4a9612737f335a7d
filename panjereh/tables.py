"""Imports every model so that ``Base.metadata`` knows all tables (for Alembic and tests)."""

from panjereh.agencies.models import Agency, InquiryType
from panjereh.audit.models import ChainHead, Event
from panjereh.auth.models import User
from panjereh.calendars.models import (
    CalendarRevision,
    ClosureRecord,
    HolidayCorrectionRecord,
    WorkingWeekRecord,
)
from panjereh.dashboard.models import DashboardPosition  # noqa: F401 - registers the tables
from panjereh.db import Base
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.escalation.models import EscalationFiring, EscalationPolicyRecord
from panjereh.exchange.models import (
    AgencyConnection,
    AgencyMessage,
    MachineCredential,
    SecurityEvent,
)
from panjereh.idempotency.models import IdempotencyRecord
from panjereh.inquiries.models import Inquiry
from panjereh.jobs.models import Job
from panjereh.notifications.models import Notification, WebhookSubscription
from panjereh.rules.models import RuleSetRecord

metadata = Base.metadata

__all__ = [
    "Agency",
    "AgencyConnection",
    "AgencyMessage",
    "CalendarRevision",
    "ChainHead",
    "ClosureRecord",
    "Declaration",
    "DeclarationItem",
    "EscalationFiring",
    "EscalationPolicyRecord",
    "Event",
    "HolidayCorrectionRecord",
    "IdempotencyRecord",
    "Inquiry",
    "InquiryType",
    "Job",
    "MachineCredential",
    "Notification",
    "RuleSetRecord",
    "SecurityEvent",
    "User",
    "WebhookSubscription",
    "WorkingWeekRecord",
    "metadata",
]
