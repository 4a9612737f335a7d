"""The immediate report: which inquiries are late at which agency, and what waits behind them.

An inquiry is *late* when it is open and waiting on its agency (``awaiting_answer``) and its
deadline has passed (``due_at < now``). Inquiries paused for information from the trader
(``info_requested``) are not late by the agency: their clock is stopped. They are left out of
the late list and counted per agency as ``waiting_on_trader``.

Figures (see ``docs/immediate-report.md``):

- **business days late**: ``calendar.business_days_between(due date, today)``, both as
  Tehran dates, in the calendar the agency's office in the inquiry's province works by;
- **business minutes late**: ``calendar.business_minutes_between(due_at, now)`` (hours are
  minutes / 60, rounded down to a tenth, for display);
- **value waiting**: the values of the goods lines the inquiry is about (its ``item_lines``),
  summed per currency, with a US-dollar equivalent at the active rule set's reference rates;
  a currency without a rate is reported as such and left out of the dollar sum, never dropped.
  An agency's total counts each goods line once even when two of its inquiries share it; the
  national total counts each line once even when several agencies hold it;
- **on-time rate**: of the agency's inquiries answered (approved or rejected) in the last
  ``ON_TIME_WINDOW_DAYS`` days, the share decided at or before their deadline.

Cost. A fixed handful of queries whatever the number of late inquiries: the late rows (narrow
columns), the values of their goods lines, paused counts, on-time counts, agency names,
inquiry-type names and the descriptions of the goods shown; plus one calendar lookup per
distinct (agency, province) pair. Lateness is computed for every late inquiry (pure, in
memory) so the order and the totals are exact; only the detail list is capped at
``per_agency`` inquiries per agency, the most late first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, InquiryType
from panjereh.calendars.service import calendar_for
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.errors import Conflict, Invalid, NotFound
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.reference import hs_description
from panjereh.reports.schemas import (
    AgencyLate,
    Goods,
    ImmediateReport,
    LateInquiry,
    Money,
    OnTimeRate,
    ValueWaiting,
)
from panjereh.rules import service as rules
from panjereh.sla.calendar import BusinessCalendar

ON_TIME_WINDOW_DAYS = 90
"""The on-time rate looks at answers given in this many (calendar) days before the report."""
DEFAULT_PER_AGENCY = 50
"""How many late inquiries each agency lists in detail by default (counts stay exact)."""
MAX_PER_AGENCY = 500
"""The most a caller may ask to list per agency."""
ANSWERED_STATES = (InquiryState.APPROVED.value, InquiryState.REJECTED.value)

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
_IN_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit

_T = TypeVar("_T")
LineKey = tuple[int, int]
"""A goods line: (declaration id, line number)."""


@dataclass(slots=True)
class _Late:
    """One late inquiry as first read: narrow columns and its computed lateness."""

    id: int
    declaration_id: int
    agency_code: str
    province: str
    inquiry_type: str
    customs_office: str
    due_at: datetime
    escalation_level: int
    item_lines: list[int]
    days: int = 0
    minutes: int = 0

    @property
    def lines(self) -> list[LineKey]:
        return [(self.declaration_id, n) for n in self.item_lines]

    def order(self) -> tuple[int, int, datetime, int]:
        """Most late first: business days, then business minutes, then earliest deadline."""
        return (-self.days, -self.minutes, self.due_at, self.id)


def plain(value: Decimal) -> Decimal:
    """A decimal without a trailing-zero tail or an exponent (``900.000000`` → ``900``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _chunks(values: Sequence[_T], size: int = _IN_CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def value_waiting(amounts: Mapping[str, Decimal], rates: Mapping[str, Decimal]) -> ValueWaiting:
    """Amounts per currency with their dollar equivalents (where the rule set has a rate)."""
    by_currency: list[Money] = []
    usd = Decimal(0)
    missing: list[str] = []
    for currency in sorted(amounts):
        amount = amounts[currency]
        rate = rates.get(currency)
        converted = None
        if rate is None:
            missing.append(currency)
        else:
            converted = (amount * rate).quantize(_CENT, rounding=ROUND_HALF_UP)
            usd += converted
        by_currency.append(Money(currency=currency, amount=plain(amount), usd=converted))
    return ValueWaiting(
        by_currency=by_currency,
        usd=usd.quantize(_CENT),
        usd_complete=not missing,
        currencies_without_rate=missing,
    )


def _sum_lines(
    lines: Iterable[LineKey], values: Mapping[LineKey, tuple[Decimal, str]]
) -> dict[str, Decimal]:
    """Per-currency sum over distinct goods lines (a line missing from ``values`` adds nothing)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for key in set(lines):
        found = values.get(key)
        if found is not None:
            totals[found[1]] += found[0]
    return totals


def _rates(session: Session) -> tuple[int | None, Mapping[str, Decimal]]:
    try:
        version, document = rules.active(session=session)
    except Conflict:  # no rule set loaded: amounts are still reported, without dollars
        return None, {}
    return version, document.reference_rates_usd


def _late_filter(now: datetime, agency: str | None) -> list[ColumnElement[bool]]:
    where = [Inquiry.state == InquiryState.AWAITING_ANSWER.value, Inquiry.due_at < now]
    if agency is not None:
        where.append(Inquiry.agency_code == agency)
    return where


def _late_rows(session: Session, now: datetime, agency: str | None) -> list[_Late]:
    rows = session.execute(
        select(
            Inquiry.id,
            Inquiry.declaration_id,
            Inquiry.agency_code,
            Inquiry.province,
            Inquiry.inquiry_type,
            Declaration.customs_office,
            Inquiry.due_at,
            Inquiry.escalation_level,
            Inquiry.item_lines,
        )
        .join(Declaration, Declaration.id == Inquiry.declaration_id)
        .where(*_late_filter(now, agency))
    )
    return [_Late(*row) for row in rows]


def _measure(session: Session, late: list[_Late], now: datetime) -> None:
    """Business days and minutes late, in each inquiry's own agency calendar."""
    calendars: dict[tuple[str, str], BusinessCalendar] = {}
    for row in late:
        key = (row.agency_code, row.province)
        calendar = calendars.get(key)
        if calendar is None:
            calendar = calendars[key] = calendar_for(
                session=session, agency_code=row.agency_code, province=row.province
            )
        due_day = row.due_at.astimezone(calendar.tz).date()
        today = now.astimezone(calendar.tz).date()
        row.days = calendar.business_days_between(due_day, today)
        row.minutes = calendar.business_minutes_between(row.due_at, now)


def _line_values(
    session: Session, now: datetime, agency: str | None
) -> dict[LineKey, tuple[Decimal, str]]:
    """Value and currency of every goods line of a declaration with a late inquiry."""
    late_declarations = select(Inquiry.declaration_id).where(*_late_filter(now, agency))
    rows = session.execute(
        select(
            DeclarationItem.declaration_id,
            DeclarationItem.line_no,
            DeclarationItem.value,
            DeclarationItem.currency,
        ).where(DeclarationItem.declaration_id.in_(late_declarations))
    )
    return {(d, n): (value, currency) for d, n, value, currency in rows}


def _goods_details(
    session: Session, declaration_ids: Sequence[int]
) -> dict[LineKey, tuple[str, str]]:
    """HS code and the trader's description of each goods line of the declarations shown."""
    found: dict[LineKey, tuple[str, str]] = {}
    for chunk in _chunks(sorted(set(declaration_ids))):
        rows = session.execute(
            select(
                DeclarationItem.declaration_id,
                DeclarationItem.line_no,
                DeclarationItem.hs_code,
                DeclarationItem.description,
            ).where(DeclarationItem.declaration_id.in_(chunk))
        )
        found.update({(d, n): (code, text) for d, n, code, text in rows})
    return found


def _waiting_on_trader(session: Session, codes: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(Inquiry.agency_code, func.count())
        .where(
            Inquiry.state == InquiryState.INFO_REQUESTED.value,
            Inquiry.agency_code.in_(codes),
        )
        .group_by(Inquiry.agency_code)
    )
    return {code: int(count) for code, count in rows}


def _on_time(session: Session, codes: Sequence[str], now: datetime) -> dict[str, tuple[int, int]]:
    """(answered, on time) per agency over the window."""
    since = now - timedelta(days=ON_TIME_WINDOW_DAYS)
    rows = session.execute(
        select(
            Inquiry.agency_code,
            func.count(),
            func.sum(case((Inquiry.decided_at <= Inquiry.due_at, 1), else_=0)),
        )
        .where(
            Inquiry.agency_code.in_(codes),
            Inquiry.state.in_(ANSWERED_STATES),
            Inquiry.decided_at >= since,
            Inquiry.decided_at <= now,
        )
        .group_by(Inquiry.agency_code)
    )
    return {code: (int(answered), int(on_time or 0)) for code, answered, on_time in rows}


def on_time_rate(answered: int, on_time: int) -> OnTimeRate:
    """The rate as reported: four decimals, or null when nothing was answered."""
    rate = None
    if answered:
        rate = (Decimal(on_time) / Decimal(answered)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
    return OnTimeRate(
        window_days=ON_TIME_WINDOW_DAYS, answered=answered, on_time=on_time, rate=rate
    )


def immediate_report(
    *,
    session: Session,
    now: datetime,
    agency: str | None = None,
    per_agency: int = DEFAULT_PER_AGENCY,
) -> ImmediateReport:
    """The immediate report at ``now``: every agency with late inquiries (or only ``agency``),
    the agency holding the most late inquiry first."""
    if not 1 <= per_agency <= MAX_PER_AGENCY:
        raise Invalid(f"per_agency must be 1 to {MAX_PER_AGENCY}", field="per_agency")
    if agency is not None and session.get(Agency, agency) is None:
        raise NotFound(f"agency {agency} does not exist", field="agency")

    late = _late_rows(session, now, agency)
    _measure(session, late, now)
    late.sort(key=_Late.order)
    by_agency: dict[str, list[_Late]] = defaultdict(list)
    for row in late:
        by_agency[row.agency_code].append(row)  # stays most-late-first
    codes = sorted(by_agency)

    rule_set_version, rates = _rates(session)
    values = _line_values(session, now, agency) if late else {}
    shown = [row for rows in by_agency.values() for row in rows[:per_agency]]
    details = _goods_details(session, [row.declaration_id for row in shown]) if shown else {}
    paused = _waiting_on_trader(session, codes) if codes else {}
    answered = _on_time(session, codes, now) if codes else {}
    names = (
        {
            code: (name_en, name_fa)
            for code, name_en, name_fa in session.execute(
                select(Agency.code, Agency.name_en, Agency.name_fa).where(Agency.code.in_(codes))
            )
        }
        if codes
        else {}
    )
    types = sorted({row.inquiry_type for row in shown})
    type_names = (
        {
            code: (name_en, name_fa)
            for code, name_en, name_fa in session.execute(
                select(InquiryType.code, InquiryType.name_en, InquiryType.name_fa).where(
                    InquiryType.code.in_(types)
                )
            )
        }
        if types
        else {}
    )

    def detail(row: _Late) -> LateInquiry:
        goods = []
        for key in row.lines:
            found = values.get(key)
            if found is None:
                continue  # the declaration changed under the report; nothing to show
            code, description = details.get(key, ("", ""))
            goods.append(
                Goods(
                    line_no=key[1],
                    hs_code=code,
                    hs_description=hs_description(code) if code else "",
                    description=description,
                    value=plain(found[0]),
                    currency=found[1],
                )
            )
        name_en, name_fa = type_names.get(row.inquiry_type, (row.inquiry_type, row.inquiry_type))
        return LateInquiry(
            id=row.id,
            declaration_id=row.declaration_id,
            inquiry_type=row.inquiry_type,
            inquiry_type_name_en=name_en,
            inquiry_type_name_fa=name_fa,
            customs_office=row.customs_office,
            province=row.province,
            due_at=row.due_at,
            business_days_late=row.days,
            business_minutes_late=row.minutes,
            business_hours_late=(Decimal(row.minutes) / 60).quantize(_TENTH, rounding=ROUND_DOWN),
            escalation_level=row.escalation_level,
            goods=goods,
            value=value_waiting(_sum_lines(row.lines, values), rates),
        )

    agencies: list[AgencyLate] = []
    for code, rows in by_agency.items():
        name_en, name_fa = names.get(code, (code, code))
        agencies.append(
            AgencyLate(
                agency_code=code,
                name_en=name_en,
                name_fa=name_fa,
                late_count=len(rows),
                max_business_days_late=rows[0].days,
                business_days_late_total=sum(r.days for r in rows),
                waiting_on_trader=paused.get(code, 0),
                value_waiting=value_waiting(
                    _sum_lines((k for r in rows for k in r.lines), values), rates
                ),
                on_time=on_time_rate(*answered.get(code, (0, 0))),
                inquiries=[detail(r) for r in rows[:per_agency]],
                truncated=len(rows) > per_agency,
            )
        )
    # by_agency was filled in the global most-late order, so its agencies already come most
    # late first; break ties between equally late agencies by how many they hold.
    first = {code: rows[0].order() for code, rows in by_agency.items()}
    agencies.sort(key=lambda a: (first[a.agency_code][:2], -a.late_count, a.agency_code))

    return ImmediateReport(
        generated_at=now,
        agency=agency,
        late_count=len(late),
        agency_count=len(agencies),
        value_waiting=value_waiting(_sum_lines((k for r in late for k in r.lines), values), rates),
        rule_set_version=rule_set_version,
        per_agency_limit=per_agency,
        on_time_window_days=ON_TIME_WINDOW_DAYS,
        agencies=agencies,
    )
