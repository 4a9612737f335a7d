"""Names the pages show for codes: states, statuses, countries, currencies, units, HS sections.

Country names in Persian come from pycountry's own gettext catalogue (iso3166-1), with a few
corrections where it lags behind; the Persian HS section titles and currency names are
Panjereh's own (the shipped nomenclature is English only; see reference/data/README.md).
"""

from __future__ import annotations

import csv
import gettext
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry

from panjereh.declarations.models import DeclarationKind, DeclarationStatus
from panjereh.inquiries.states import InquiryState
from panjereh.reference import country_codes, currency_codes, hs_nomenclature
from panjereh.web.i18n import N_

INQUIRY_STATES: dict[str, str] = {
    InquiryState.AWAITING_ANSWER: N_("Awaiting the agency"),
    InquiryState.INFO_REQUESTED: N_("Information requested"),
    InquiryState.APPROVED: N_("Approved"),
    InquiryState.REJECTED: N_("Rejected"),
    InquiryState.WITHDRAWN: N_("Withdrawn"),
    "lapsed": N_("Lapsed: no reply in time"),
}
DECLARATION_STATUSES: dict[str, str] = {
    DeclarationStatus.UNDER_INQUIRY: N_("Under inquiry"),
    DeclarationStatus.AWAITING_TRADER: N_("Awaiting your reply"),
    DeclarationStatus.CLEARED: N_("Cleared"),
    DeclarationStatus.REFUSED: N_("Refused"),
    DeclarationStatus.CANCELLED: N_("Cancelled"),
}
DECLARATION_KINDS: dict[str, str] = {
    DeclarationKind.IMPORT: N_("Import"),
    DeclarationKind.EXPORT: N_("Export"),
    DeclarationKind.TRANSIT: N_("Transit"),
}
ROLES: dict[str, str] = {
    "trader": N_("Trader"),
    "officer": N_("Agency officer"),
    "agency_head": N_("Agency head"),
    "supervisor": N_("National supervisor"),
    "admin": N_("Administrator"),
}
EVENTS: dict[str, str] = {
    "declaration.filed": N_("Declaration filed"),
    "declaration.cancelled": N_("Declaration cancelled"),
    "declaration.cleared": N_("Goods cleared"),
    "declaration.refused": N_("Declaration refused"),
    "declaration.awaiting_trader": N_("Waiting for the trader"),
    "declaration.under_inquiry": N_("Back under inquiry"),
    "inquiry.created": N_("Inquiry sent"),
    "inquiry.approved": N_("Inquiry approved"),
    "inquiry.rejected": N_("Inquiry rejected"),
    "inquiry.info_requested": N_("Information requested"),
    "inquiry.replied": N_("Trader replied"),
    "inquiry.withdrawn": N_("Inquiry withdrawn"),
    "inquiry.lapsed": N_("Request lapsed: no reply in time"),
    "inquiry.deadline_moved": N_("Deadline moved"),
    "inquiry.assigned": N_("Assigned to an officer"),
    "escalation.at_risk": N_("At risk: the officers were reminded"),
    "escalation.breached": N_("Deadline passed: the agency head was told"),
    "escalation.supervisor": N_("Reported to the national supervisor"),
    "escalation.repeat": N_("Still unanswered: reminded again"),
    "escalation.manual": N_("Escalated by hand to the national supervisor"),
    "escalation.undeliverable": N_("Undeliverable to the agency's system: escalated"),
    "escalation.acknowledged": N_("Escalation acknowledged by the agency"),
}
# The default ladder's steps (an administrator may name others; those show their name).
STEPS: dict[str, str] = {
    "at_risk": N_("At risk"),
    "breached": N_("Deadline passed"),
    "supervisor": N_("National supervisor"),
    "repeat": N_("Reminder"),
    "manual": N_("Escalated by hand"),
}
AUDIENCES: dict[str, str] = {
    "agency_officers": N_("The agency's officers"),
    "agency_head": N_("The agency head"),
    "supervisor": N_("The national supervisor"),
}
SEGMENTS: dict[str, str] = {
    "running": N_("The agency's clock ran"),
    "paused": N_("Paused: waiting for the trader"),
}
WEEKDAYS: dict[str, str] = {
    "SAT": N_("Saturday"),
    "SUN": N_("Sunday"),
    "MON": N_("Monday"),
    "TUE": N_("Tuesday"),
    "WED": N_("Wednesday"),
    "THU": N_("Thursday"),
    "FRI": N_("Friday"),
}

# UN/ECE Recommendation 20 codes that customs declarations use most.
UNITS: dict[str, str] = {
    "NAR": N_("pieces (NAR)"),
    "KGM": N_("kilograms (KGM)"),
    "TNE": N_("tonnes (TNE)"),
    "LTR": N_("litres (LTR)"),
    "MTR": N_("metres (MTR)"),
    "MTK": N_("square metres (MTK)"),
    "MTQ": N_("cubic metres (MTQ)"),
    "PR": N_("pairs (PR)"),
    "SET": N_("sets (SET)"),
}

CURRENCY_NAMES_FA: dict[str, str] = {
    "USD": "دلار آمریکا",
    "EUR": "یورو",
    "AED": "درهم امارات",
    "CNY": "یوان چین",
    "TRY": "لیر ترکیه",
    "INR": "روپیه هند",
    "RUB": "روبل روسیه",
    "GBP": "پوند انگلیس",
    "JPY": "ین ژاپن",
    "KRW": "وون کره جنوبی",
    "IRR": "ریال ایران",
    "CHF": "فرانک سوئیس",
    "IQD": "دینار عراق",
}
FREQUENT_CURRENCIES = ("USD", "EUR", "AED", "CNY", "IRR", "TRY", "INR", "RUB")
FREQUENT_COUNTRIES = ("CN", "AE", "TR", "IN", "DE", "RU", "IQ", "KR", "IT", "BR")

# pycountry's Persian catalogue predates some names; these are the names in use.
_COUNTRY_FA_FIXES = {
    "TR": "ترکیه",
    "IR": "ایران",
    "KR": "کره جنوبی",
    "KP": "کره شمالی",
    "RU": "روسیه",
    "US": "ایالات متحده آمریکا",
    "GB": "بریتانیا",
    "AE": "امارات متحده عربی",
}

HS_SECTIONS_FA: dict[str, str] = {
    "I": "حیوانات زنده و محصولات حیوانی",
    "II": "محصولات نباتی",
    "III": "چربی‌ها و روغن‌های حیوانی یا نباتی و فرآورده‌های آن‌ها؛ موم‌ها",
    "IV": "محصولات صنایع غذایی؛ نوشابه‌ها و سرکه؛ توتون و تنباکو",
    "V": "محصولات معدنی",
    "VI": "محصولات صنایع شیمیایی و صنایع وابسته",
    "VII": "مواد پلاستیکی و کائوچو و اشیای ساخته‌شده از آن‌ها",
    "VIII": "پوست خام، چرم، پوست نرم و مصنوعات آن‌ها؛ کیف و لوازم سفر",
    "IX": "چوب و اشیای چوبی؛ چوب‌پنبه؛ مصنوعات حصیری و سبدبافی",
    "X": "خمیر چوب؛ کاغذ و مقوا و اشیای ساخته‌شده از آن‌ها",
    "XI": "مواد نسجی و مصنوعات آن‌ها",
    "XII": "کفش، کلاه، چتر، عصا و شلاق؛ پر آرایش‌شده؛ گل مصنوعی",
    "XIII": "مصنوعات از سنگ، گچ، سیمان و مواد همانند؛ سرامیک؛ شیشه",
    "XIV": "مروارید، سنگ‌های قیمتی و فلزات گران‌بها و مصنوعات آن‌ها؛ سکه",
    "XV": "فلزات معمولی و مصنوعات آن‌ها",
    "XVI": "ماشین‌آلات و دستگاه‌های مکانیکی و برقی و اجزای آن‌ها",
    "XVII": "وسایل نقلیه، هواپیما، کشتی و تجهیزات حمل‌ونقل",
    "XVIII": "ابزار و دستگاه‌های اپتیک، عکاسی، سنجش، پزشکی؛ ساعت؛ آلات موسیقی",
    "XIX": "اسلحه و مهمات و اجزای آن‌ها",
    "XX": "کالاها و مصنوعات گوناگون",
    "XXI": "آثار هنری، اشیای کلکسیونی و عتیقه",
}


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a select: the code sent and the label shown."""

    code: str
    label: str


@cache
def _pycountry_fa() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fa"], fallback=True)


@cache
def country_name(code: str, lang: str) -> str:
    """A country's short name in the language (its code if unknown)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    if lang != "fa":
        return str(getattr(country, "common_name", None) or country.name)
    return _COUNTRY_FA_FIXES.get(code) or _pycountry_fa().gettext(country.name)


@cache
def countries(lang: str) -> tuple[tuple[Choice, ...], tuple[Choice, ...]]:
    """Frequent trade partners first, then every ISO 3166-1 country by name."""
    every = sorted(
        (Choice(code, country_name(code, lang)) for code in country_codes()),
        key=lambda c: c.label,
    )
    return tuple(Choice(c, country_name(c, lang)) for c in FREQUENT_COUNTRIES), tuple(every)


def currency_name(code: str, lang: str) -> str:
    """A currency's name in the language (the ISO name in English; Persian where written)."""
    if lang == "fa" and code in CURRENCY_NAMES_FA:
        return CURRENCY_NAMES_FA[code]
    currency = pycountry.currencies.get(alpha_3=code)
    return str(currency.name) if currency else code


@cache
def currencies(lang: str) -> tuple[tuple[Choice, ...], tuple[Choice, ...]]:
    """Frequent currencies first, then every ISO 4217 code."""
    frequent = tuple(Choice(c, f"{c} — {currency_name(c, lang)}") for c in FREQUENT_CURRENCIES)
    every = tuple(Choice(c, f"{c} — {currency_name(c, lang)}") for c in sorted(currency_codes()))
    return frequent, every


def hs_section_title(section: str, lang: str) -> str:
    """The title of an HS section (Persian titles are Panjereh's own)."""
    if lang == "fa" and section in HS_SECTIONS_FA:
        return HS_SECTIONS_FA[section]
    return _sections_en().get(section, section)


@cache
def _sections_en() -> dict[str, str]:
    text = resources.files("panjereh.reference").joinpath("data", "hs-sections.csv")
    rows = csv.DictReader(text.read_text("utf-8-sig").splitlines())
    return {r["section"]: r["name"].strip() for r in rows}


def hs_context(code: str) -> tuple[str, str, str]:
    """The section, chapter text and heading text of an HS code (for showing where it sits)."""
    nomenclature = hs_nomenclature()
    chapter = nomenclature.get(code[:2])
    heading = nomenclature.get(code[:4])
    return (
        chapter.section if chapter else "",
        chapter.description if chapter else "",
        heading.description if heading else "",
    )
