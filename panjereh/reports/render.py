"""The immediate report as a document: a printable HTML page and a PDF, in Persian or English.

Persian: right to left, Jalali dates, Persian digits. English: left to right, Gregorian
dates. Times are Asia/Tehran wall time in both. Everything a user typed (goods descriptions)
is escaped in HTML (Jinja2 autoescape) and written as plain text in the PDF.

The PDF is drawn with fpdf2 and its HarfBuzz text shaping (``uharfbuzz``), so Persian letters
join and runs go right to left, with the Vazirmatn font (OFL) that the asset step copies to
``panjereh/web/static/vendor/vazirmatn/``. Without those files the PDF cannot be drawn:
:class:`AssetsMissing` says so (a 503 problem), the JSON and HTML reports still work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace, TTFFont
from jinja2 import Environment, PackageLoader, select_autoescape

from panjereh import formatting
from panjereh.errors import DomainError
from panjereh.reference import customs_offices, provinces
from panjereh.reports.schemas import AgencyLate, ImmediateReport, LateInquiry, ValueWaiting
from panjereh.sla.calendar import TEHRAN

Lang = Literal["fa", "en"]

FONT_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "vazirmatn"
"""Where the asset step puts the Vazirmatn TTFs the PDF embeds."""
FONT_FILES = {"": "Vazirmatn-Regular.ttf", "B": "Vazirmatn-Bold.ttf"}

_FSI, _PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate

# (English, Persian); ``{name}`` fields are filled with already formatted values.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Immediate report on late inquiries", "گزارش فوری استعلام‌های دارای تأخیر"),
    "to": ("To the national supervisor", "به ناظر ملی"),
    "generated": ("Generated", "زمان تهیه"),
    "scope": ("Scope", "دامنه"),
    "all_agencies": ("All agencies", "همه دستگاه‌ها"),
    "late": ("Late inquiries", "استعلام‌های دارای تأخیر"),
    "agencies": ("Agencies with late inquiries", "دستگاه‌های دارای تأخیر"),
    "value_waiting": ("Value of goods waiting", "ارزش کالای منتظر"),
    "usd": ("US-dollar equivalent", "معادل دلار آمریکا"),
    "usd_partial": (
        "US-dollar equivalent (currencies without a reference rate left out: {codes})",
        "معادل دلار آمریکا (بدون ارزهای فاقد نرخ مرجع: {codes})",
    ),
    "without": ("without {codes}", "بدون {codes}"),
    "no_rate": ("no reference rate for {codes}", "نرخ مرجع برای {codes} نیست"),
    "rates": ("Reference rates: rule set version {v}", "نرخ‌های مرجع: نسخه {v} ضوابط"),
    "no_rates": ("No rule set is active: no reference rates", "ضوابط فعالی نیست: نرخ مرجع ندارد"),
    "on_time": ("On-time rate, last {n} days", "نرخ پاسخ به‌موقع در {n} روز گذشته"),
    "on_time_of": ("{on_time} of {answered} answers", "{on_time} از {answered} پاسخ"),
    "no_answers": ("no answers in this period", "پاسخی در این بازه ثبت نشده"),
    "most_late": ("Most late", "بیشترین تأخیر"),
    "days": ("{n} business days", "{n} روز کاری"),
    "waiting_on_trader": (
        "Waiting on the trader (clock paused, not late)",
        "در انتظار پاسخ بازرگان (ساعت متوقف، بدون تأخیر)",
    ),
    "showing": (
        "Showing the {shown} most late of {total}; counts and values cover all {total}.",
        "{shown} مورد از {total} مورد با بیشترین تأخیر آمده است؛ شمار و ارزش‌ها همه {total} "
        "مورد را در بر می‌گیرد.",
    ),
    "none": ("No inquiry is late.", "هیچ استعلامی از مهلت پاسخ نگذشته است."),
    "col_inquiry": ("Inquiry", "استعلام"),
    "col_declaration": ("Declaration", "اظهارنامه"),
    "col_type": ("Inquiry type", "نوع استعلام"),
    "col_office": ("Customs office / province", "گمرک / استان"),
    "col_due": ("Deadline", "مهلت پاسخ"),
    "col_days": ("Business days late", "روز کاری تأخیر"),
    "col_hours": ("Business hours late", "ساعت کاری تأخیر"),
    "col_level": ("Escalation level", "سطح ارجاع"),
    "col_level_short": ("Esc. level", "سطح ارجاع"),
    "col_goods": ("Goods (HS code, description)", "کالا (کد تعرفه، شرح)"),
    "col_value": ("Value", "ارزش"),
    "note": (
        "Times are Asia/Tehran. Lateness counts the business days and hours of the agency's "
        "own calendar after the deadline. An inquiry waiting on the trader is not late.",
        "زمان‌ها به وقت تهران است. تأخیر بر پایه روزها و ساعات کاری تقویم خود دستگاه پس از "
        "مهلت پاسخ شمرده می‌شود. استعلامی که در انتظار پاسخ بازرگان است تأخیر ندارد.",
    ),
    "page": ("Page {n} of {total}", "صفحه {n} از {total}"),
    "inquiry_no": ("Inquiry {id}", "استعلام {id}"),
}


class AssetsMissing(DomainError):
    """A file the asset step should have copied is not there."""

    status, slug = 503, "assets-not-built"


# -- words and numbers -----------------------------------------------------------------


def digits(text: str, lang: Lang) -> str:
    """``text`` with Persian digits in Persian."""
    return formatting.digits(text, lang)


def number(value: Decimal | int, lang: Lang) -> str:
    """Grouped by thousands: ``240,000.5`` / ``۲۴۰٬۰۰۰٫۵``."""
    return formatting.number(value, lang)


def percent(rate: Decimal, lang: Lang) -> str:
    """A fraction as a percentage with one decimal: ``66.7%`` / ``۶۶٫۷٪`` (the sign after the
    number, as CLDR's Persian pattern writes it)."""
    value = (rate * 100).quantize(Decimal("0.1"))
    return f"{number(value, lang)}{'٪' if lang == 'fa' else '%'}"


def when(instant: datetime, lang: Lang) -> str:
    """Tehran wall time: ``30 آبان 1405، 08:30`` in Jalali or ``21 Nov 2026, 08:30``."""
    day = formatting.date_text(instant, lang, TEHRAN)
    clock = formatting.digits(f"{instant.astimezone(TEHRAN):%H:%M}", lang)
    return f"{day}، {clock}" if lang == "fa" else f"{day}, {clock}"


def label(key: str, lang: Lang, **values: object) -> str:
    """A label in ``lang`` with its fields filled in."""
    en, fa = LABELS[key]
    return (fa if lang == "fa" else en).format(**values)


def money(amount: Decimal, currency: str, lang: Lang) -> str:
    """``240,000 USD`` / ``۲۴۰٬۰۰۰ USD``."""
    return f"{number(amount, lang)} {currency}"


def value_lines(value: ValueWaiting, lang: Lang, *, total: bool = True) -> list[str]:
    """Each currency's amount, then (when ``total`` and another currency than the dollar is
    involved) the dollar equivalent, naming the currencies it leaves out."""
    lines = [money(m.amount, m.currency, lang) for m in value.by_currency]
    if not total or not lines or [m.currency for m in value.by_currency] == ["USD"]:
        return lines
    if all(m.usd is None for m in value.by_currency):
        return [*lines, label("no_rate", lang, codes=", ".join(value.currencies_without_rate))]
    usd = f"≈ {money(value.usd, 'USD', lang)}"
    if not value.usd_complete:
        usd += f" ({label('without', lang, codes=', '.join(value.currencies_without_rate))})"
    return [*lines, usd]


def usd_total(value: ValueWaiting, lang: Lang) -> tuple[str, str]:
    """(label, amount) of the dollar equivalent, saying what it leaves out."""
    if value.usd_complete:
        return label("usd", lang), money(value.usd, "USD", lang)
    codes = ", ".join(value.currencies_without_rate)
    if all(m.usd is None for m in value.by_currency):
        return label("usd", lang), label("no_rate", lang, codes=codes)
    return label("usd_partial", lang, codes=codes), money(value.usd, "USD", lang)


def agency_name(agency: AgencyLate, lang: Lang) -> str:
    return agency.name_fa if lang == "fa" else agency.name_en


def type_name(inquiry: LateInquiry, lang: Lang) -> str:
    return inquiry.inquiry_type_name_fa if lang == "fa" else inquiry.inquiry_type_name_en


def office_name(code: str, lang: Lang) -> str:
    office = customs_offices().get(code)
    if office is None:
        return code
    return office.name_fa if lang == "fa" else office.name_en


def province_name(code: str, lang: Lang) -> str:
    province = provinces().get(code)
    if province is None:
        return code
    return province.name_fa if lang == "fa" else province.name_en


def on_time_text(agency: AgencyLate, lang: Lang) -> str:
    rate = agency.on_time
    if rate.rate is None:
        return label("no_answers", lang)
    of = label(
        "on_time_of", lang, on_time=number(rate.on_time, lang), answered=number(rate.answered, lang)
    )
    return f"{percent(rate.rate, lang)} ({of})"


def goods_lines(inquiry: LateInquiry, lang: Lang, *, nomenclature: bool) -> list[str]:
    """One line per goods line: HS code and the trader's description, with the HS
    nomenclature's (English) description when ``nomenclature``.

    The trader's words are a bidirectional isolate (FSI … PDI), so Persian typed into an
    English report, or Latin into a Persian one, keeps its own direction and its brackets.
    """
    lines = []
    for g in inquiry.goods:
        text = f"{digits(g.hs_code, lang)} — {_FSI}{g.description}{_PDI}"
        lines.append(f"{text} ({g.hs_description})" if nomenclature and g.hs_description else text)
    return lines


def filename(report: ImmediateReport, lang: Lang, extension: str) -> str:
    """``immediate-report-2026-11-21-fa.pdf`` (Tehran date; ASCII for every browser)."""
    day = report.generated_at.astimezone(TEHRAN).date().isoformat()
    scope = f"-{report.agency}" if report.agency else ""
    return f"immediate-report{scope}-{day}-{lang}.{extension}"


# -- HTML ------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("panjereh.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def html(report: ImmediateReport, lang: Lang) -> str:
    """The report as one self-contained, printable HTML page."""
    helpers: dict[str, Callable[..., Any]] = {
        "t": lambda key, **v: label(key, lang, **v),
        "num": lambda v: number(v, lang),
        "digits": lambda v: digits(str(v), lang),
        "when": lambda v: when(v, lang),
        "value_lines": lambda v, total=True: value_lines(v, lang, total=total),
        "usd_total": lambda v: usd_total(v, lang),
        "agency_name": lambda a: agency_name(a, lang),
        "type_name": lambda i: type_name(i, lang),
        "office_name": lambda c: office_name(c, lang),
        "province_name": lambda c: province_name(c, lang),
        "on_time_text": lambda a: on_time_text(a, lang),
    }
    template = _environment().get_template("immediate.html")
    return template.render(
        report=report, lang=lang, dir="rtl" if lang == "fa" else "ltr", **helpers
    )


# -- PDF -------------------------------------------------------------------------------


def font_paths() -> dict[str, Path]:
    """The TTFs the PDF embeds, or :class:`AssetsMissing` naming what is not there."""
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise AssetsMissing(
            "the PDF report needs the Vazirmatn font, which the asset step has not copied "
            f"({', '.join(missing)} missing under panjereh/web/static/vendor/vazirmatn); "
            "run `npm ci` and `python -m panjereh.web.assets`. The JSON and HTML reports work "
            "without it."
        )
    return paths


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    width: float  # share of the table width


_COLUMNS = (
    _Column("col_inquiry", 5),
    _Column("col_declaration", 6),
    _Column("col_type", 12),
    _Column("col_office", 11),
    _Column("col_due", 10),
    _Column("col_days", 5),
    _Column("col_hours", 5),
    _Column("col_level_short", 4.5),
    _Column("col_goods", 24),
    _Column("col_value", 14),
)
_INK = (33, 37, 41)
_MUTED = (90, 98, 106)
_BAND = (225, 232, 240)
_HEAD = (238, 241, 245)
_RULE = (170, 178, 189)


WidthCache = dict[tuple[str, str, float, bool, object, object], tuple[int, float]]


def _remember_widths(font: TTFFont, cache: WidthCache) -> None:
    """Memoize a font's text widths.

    fpdf2 measures a line as it grows, one character at a time, shaping the whole fragment
    with HarfBuzz at each step, and tables measure every cell twice (for the row height, then
    to draw it). The width of a given text in a given size and direction does not change
    within a document, so it is shaped once. The key holds everything the width depends on
    that varies within one document: whether it is shaped, and the fragment's and paragraph's
    directions (features, script and language are fixed when the document starts).
    ``TTFFont`` has slots, so the font's class is swapped for a subclass with no new slots
    instead of setting an attribute.
    """
    base = type(font)
    fontkey = font.fontkey

    class Remembering(base):  # type: ignore[valid-type,misc]
        __slots__ = ()

        def get_text_width(
            self, text: str, font_size_pt: float, params: dict[str, Any] | None
        ) -> tuple[int, float]:
            key = (
                fontkey,
                text,
                font_size_pt,
                params is not None,
                None if params is None else params.get("fragment_direction"),
                None if params is None else params.get("paragraph_direction"),
            )
            found = cache.get(key)
            if found is None:
                found = cache[key] = base.get_text_width(self, text, font_size_pt, params)
            return found

    font.__class__ = Remembering


_NUMERIC = frozenset("0123456789۰۱۲۳۴۵۶۷۸۹.,:/%+- \n٫٬٪")


def _is_rtl(char: str) -> bool:
    return "\u0590" <= char <= "\u08ff" or "\ufb1d" <= char <= "\ufefc"


def _needs_shaping(text: str, *, rtl: bool) -> bool:
    """Whether ``text`` must go through HarfBuzz and the bidi algorithm to look right: any
    right-to-left letter or directional mark, or, in a right-to-left paragraph, anything but
    digits and number punctuation (which read the same either way)."""
    if rtl:
        return not set(text) <= _NUMERIC
    return any(_is_rtl(c) or "\u200e" <= c <= "\u206f" for c in text)


class _Document(FPDF):
    """A4 landscape with the report's page header and numbered footer."""

    def __init__(self, report: ImmediateReport, lang: Lang) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report, self.language = report, lang
        self.rtl = lang == "fa"
        self.start = "R" if self.rtl else "L"
        self.end = "L" if self.rtl else "R"
        for style, path in font_paths().items():
            self.add_font("Vazirmatn", style, str(path))
        widths: WidthCache = {}
        for font in self.fonts.values():
            if isinstance(font, TTFFont):
                _remember_widths(font, widths)
        self.set_text_shaping(True, direction="rtl" if self.rtl else "ltr")
        self.set_margins(10, 22, 10)
        self.set_auto_page_break(True, margin=16)
        self.set_title(label("title", lang))
        self.set_author("Panjereh")
        self.set_creator("Panjereh")
        self.set_lang(lang)

    def header(self) -> None:
        self.set_y(8)
        self.set_text_color(*_INK)
        self.set_font("Vazirmatn", "B", 13)
        title = label("title", self.language)
        half = self.epw / 2
        if self.rtl:
            self.set_x(self.l_margin + half)
        self.cell(half, 7, title, align=self.start)
        self.set_font("Vazirmatn", "", 9)
        self.set_text_color(*_MUTED)
        generated = (
            f"{label('generated', self.language)}: {when(self.report.generated_at, self.language)}"
        )
        self.set_x(self.l_margin if self.rtl else self.l_margin + half)
        self.cell(half, 7, generated, align=self.end)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, 16, self.w - self.r_margin, 16)
        self.set_y(self.t_margin)

    def number_pages(self) -> None:
        """Write "page n of N" at the foot of every page, once N is known."""
        total = self.pages_count
        self.set_auto_page_break(False)
        self.set_font("Vazirmatn", "", 8)
        self.set_text_color(*_MUTED)
        for n in range(1, total + 1):
            self.page = n
            self.set_y(-11)
            text = label(
                "page",
                self.language,
                n=digits(str(n), self.language),
                total=digits(str(total), self.language),
            )
            self.cell(0, 5, text, align="C")

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        """fpdf2's ``multi_cell``, without text shaping for text that needs none.

        Shaping is most of the cost of a PDF; a cell of digits in either language, or one
        with no right-to-left letter in an English report, looks the same without it.
        """
        text = kwargs.get("text", args[2] if len(args) > 2 else "")
        if self.text_shaping is None or _needs_shaping(str(text), rtl=self.rtl):
            return super().multi_cell(*args, **kwargs)
        shaping, self.text_shaping = self.text_shaping, None
        try:
            return super().multi_cell(*args, **kwargs)
        finally:
            self.text_shaping = shaping

    # -- pieces --

    def paragraph(self, text: str, *, size: float = 9.5, bold: bool = False) -> None:
        self.set_font("Vazirmatn", "B" if bold else "", size)
        self.multi_cell(0, size * 0.55, text, align=self.start, new_x=XPos.LMARGIN)

    def facts(self, rows: Sequence[Sequence[tuple[str, str]]]) -> None:
        """Lines of label and value pairs, the label first in reading order."""
        self.set_font("Vazirmatn", "", 9.5)
        for line in rows:
            text = "   ·   ".join(f"{name}: {value}" for name, value in line)
            self.multi_cell(0, 5.2, text, align=self.start, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def band(self, text: str) -> None:
        # The band, the agency's figures, the table's headings and a first row stay together.
        if self.will_page_break(62):
            self.add_page()
        self.ln(2)
        self.set_fill_color(*_BAND)
        self.set_text_color(*_INK)
        self.set_font("Vazirmatn", "B", 11)
        self.cell(0, 8, text, align=self.start, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def inquiry_table(self, inquiries: Sequence[LateInquiry]) -> None:
        lang = self.language
        columns = list(reversed(_COLUMNS)) if self.rtl else list(_COLUMNS)
        total = sum(c.width for c in _COLUMNS)
        widths = tuple(self.epw * c.width / total for c in columns)
        self.set_font("Vazirmatn", "", 8)
        self.set_text_color(*_INK)
        self.set_draw_color(*_RULE)
        heading = FontFace(emphasis="BOLD", fill_color=_HEAD, size_pt=8)
        self.set_fill_color(255, 255, 255)
        with self.table(
            col_widths=widths,
            text_align=self.start,
            line_height=4.2,
            padding=1.2,
            headings_style=heading,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            v_align="TOP",
        ) as table:
            head = table.row()
            for column in columns:
                head.cell(label(column.key, lang))
            for inquiry in inquiries:
                cells = {
                    "col_inquiry": digits(str(inquiry.id), lang),
                    "col_declaration": digits(str(inquiry.declaration_id), lang),
                    "col_type": f"{type_name(inquiry, lang)}\n{inquiry.inquiry_type}",
                    "col_office": f"{office_name(inquiry.customs_office, lang)}\n"
                    f"{province_name(inquiry.province, lang)}",
                    "col_due": when(inquiry.due_at, lang),
                    "col_days": number(inquiry.business_days_late, lang),
                    "col_hours": number(inquiry.business_hours_late, lang),
                    "col_level_short": number(inquiry.escalation_level, lang),
                    "col_goods": "\n".join(goods_lines(inquiry, lang, nomenclature=not self.rtl)),
                    "col_value": "\n".join(value_lines(inquiry.value, lang)),
                }
                row = table.row()
                for column in columns:
                    row.cell(cells[column.key])


def _draw(report: ImmediateReport, lang: Lang) -> _Document:
    pdf = _Document(report, lang)
    pdf.add_page()
    pdf.set_text_color(*_INK)
    pdf.paragraph(label("to", lang), size=10, bold=True)
    usd_name, usd_value = usd_total(report.value_waiting, lang)
    separator = "؛ " if lang == "fa" else "; "
    facts = [
        (label("scope", lang), report.agency or label("all_agencies", lang)),
        (label("late", lang), number(report.late_count, lang)),
        (label("agencies", lang), number(report.agency_count, lang)),
        (
            label("value_waiting", lang),
            separator.join(value_lines(report.value_waiting, lang, total=False)) or "—",
        ),
        (usd_name, usd_value),
    ]
    pdf.facts([[fact] for fact in facts])
    pdf.set_text_color(*_MUTED)
    if report.rule_set_version is None:
        pdf.paragraph(label("no_rates", lang), size=8.5)
    else:
        pdf.paragraph(label("rates", lang, v=digits(str(report.rule_set_version), lang)), size=8.5)
    pdf.paragraph(label("note", lang), size=8.5)
    pdf.set_text_color(*_INK)
    if not report.agencies:
        pdf.ln(4)
        pdf.paragraph(label("none", lang), size=11, bold=True)
    for agency in report.agencies:
        pdf.band(f"{agency_name(agency, lang)} ({agency.agency_code})")
        a_usd_name, a_usd_value = usd_total(agency.value_waiting, lang)
        pdf.facts(
            [
                [
                    (label("late", lang), number(agency.late_count, lang)),
                    (
                        label("most_late", lang),
                        label("days", lang, n=number(agency.max_business_days_late, lang)),
                    ),
                    (label("waiting_on_trader", lang), number(agency.waiting_on_trader, lang)),
                ],
                [
                    (
                        label("value_waiting", lang),
                        separator.join(value_lines(agency.value_waiting, lang, total=False)),
                    ),
                    (a_usd_name, a_usd_value),
                ],
                [
                    (
                        label("on_time", lang, n=digits(str(agency.on_time.window_days), lang)),
                        on_time_text(agency, lang),
                    )
                ],
            ]
        )
        pdf.ln(1)
        pdf.inquiry_table(agency.inquiries)
        if agency.truncated:
            pdf.set_text_color(*_MUTED)
            pdf.paragraph(
                label(
                    "showing",
                    lang,
                    shown=number(len(agency.inquiries), lang),
                    total=number(agency.late_count, lang),
                ),
                size=8.5,
            )
            pdf.set_text_color(*_INK)
    return pdf


def pdf(report: ImmediateReport, lang: Lang) -> bytes:
    """The report as a PDF."""
    document = _draw(report, lang)
    document.number_pages()
    return bytes(document.output())
