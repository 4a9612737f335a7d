"""Deciding which inquiries a declaration needs, and saying why. Pure: no I/O.

One inquiry per inquiry type: every rule of the same type that matches adds its items and its
reason. A value test converts with the rule set's reference rates; a currency without a rate
is treated as meeting the threshold, because asking an agency once too often costs hours and
missing a required permit costs a seizure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from panjereh.formatting import persian_digits
from panjereh.rules.document import RuleSetDocument, RuleSpec


@dataclass(frozen=True, slots=True)
class GoodsLine:
    """The facts of one item that rules look at."""

    line_no: int
    hs_code: str
    origin_country: str
    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Filing:
    """The facts of a declaration that rules look at."""

    kind: str
    lines: Sequence[GoodsLine]


@dataclass(slots=True)
class Requirement:
    """One inquiry the declaration needs: which type, for which items, because of which rules."""

    inquiry_type: str
    agency_code: str
    sla_business_days: int
    rule_codes: list[str] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)
    reasons_fa: list[str] = field(default_factory=list)

    def reason_en(self, version: int) -> str:
        """The trader-readable reason in English."""
        lines = ", ".join(str(n) for n in self.item_lines)
        return (
            f"{' '.join(self.reasons_en)} "
            f"(rule {', '.join(self.rule_codes)} of rule set v{version}; items {lines})"
        )

    def reason_fa(self, version: int) -> str:
        """The trader-readable reason in Persian."""
        lines = "، ".join(persian_digits(str(n)) for n in self.item_lines)
        return (
            f"{' '.join(self.reasons_fa)} "
            f"(ضابطه {'، '.join(self.rule_codes)} از نسخه {persian_digits(str(version))} "
            f"ضوابط؛ ردیف‌های {lines})"
        )


def total_value_usd(document: RuleSetDocument, lines: Sequence[GoodsLine]) -> Decimal | None:
    """The declaration's value in USD by the rule set's rates, or None if a rate is missing."""
    total = Decimal(0)
    for line in lines:
        rate = document.reference_rates_usd.get(line.currency)
        if rate is None:
            return None
        total += line.value * rate
    return total


def _declaration_applies(rule: RuleSpec, filing: Filing, total_usd: Decimal | None) -> bool:
    if filing.kind not in rule.kinds:
        return False
    if rule.min_total_value_usd is not None and total_usd is not None:
        return total_usd > rule.min_total_value_usd
    return True


def _line_applies(rule: RuleSpec, line: GoodsLine) -> bool:
    if "*" not in rule.hs_prefixes and not line.hs_code.startswith(rule.hs_prefixes):
        return False
    if rule.origins is not None and line.origin_country not in rule.origins:
        return False
    if line.origin_country in rule.origins_excluded:
        return False
    return line.currency not in rule.currencies_excluded


def requirements(document: RuleSetDocument, filing: Filing) -> list[Requirement]:
    """The inquiries ``filing`` needs under ``document``, in the rule set's order of types."""
    types = {t.code: t for t in document.inquiry_types}
    total_usd = total_value_usd(document, filing.lines)
    by_chapter: dict[str, list[GoodsLine]] = {}
    for line in filing.lines:
        by_chapter.setdefault(line.hs_code[:2], []).append(line)
    found: dict[str, Requirement] = {}
    for rule in document.rules:
        chapters = rule.chapters
        if chapters is None:
            candidates: Sequence[GoodsLine] = filing.lines
        else:
            candidates = [line for c in chapters & by_chapter.keys() for line in by_chapter[c]]
            if not candidates:
                continue
        if not _declaration_applies(rule, filing, total_usd):
            continue
        matched = [line.line_no for line in candidates if _line_applies(rule, line)]
        if not matched:
            continue
        spec = types[rule.inquiry_type]
        req = found.setdefault(
            spec.code, Requirement(spec.code, spec.agency, spec.sla_business_days)
        )
        req.rule_codes.append(rule.code)
        req.reasons_en.append(rule.reason_en)
        req.reasons_fa.append(rule.reason_fa)
        req.item_lines = sorted(set(req.item_lines) | set(matched))
    order = {t.code: i for i, t in enumerate(document.inquiry_types)}
    return sorted(found.values(), key=lambda r: order[r.inquiry_type])
