"""The pages' languages: Persian (the default) and English, from gettext catalogues.

Messages are written in English in the code and templates (the msgids); Persian comes from
``locale/fa/LC_MESSAGES/messages.po``, compiled in memory when first needed, so no compiled
``.mo`` file is kept in the repository. ``docs/web.md`` says how to extract and update.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from panjereh import formatting

LANGUAGES: tuple[str, ...] = ("fa", "en")
DEFAULT_LANGUAGE = "fa"
LANGUAGE_COOKIE = "panjereh_lang"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English is the source language: no catalogue)."""
    if lang == "en":
        return gettext.NullTranslations()
    po = resources.files("panjereh.web").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def pick_language(cookie_value: str | None) -> str:
    """The language a visitor chose (remembered in a cookie), else Persian."""
    return cookie_value if cookie_value in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Lang:
    """One request's language: its translations, direction and formats."""

    code: str
    tz: ZoneInfo

    @property
    def dir(self) -> str:
        """Text direction of the page."""
        return "rtl" if self.code == "fa" else "ltr"

    @property
    def other(self) -> str:
        """The language the switch offers."""
        return "en" if self.code == "fa" else "fa"

    def gettext(self, message: str) -> str:
        """``message`` in this language."""
        return translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form of a message for ``n``, in this language."""
        return translations(self.code).ngettext(singular, plural, n)

    def digits(self, value: object) -> str:
        """``value`` as text with this language's digits."""
        return formatting.digits(value, self.code)

    def number(self, value: Decimal | int) -> str:
        """A grouped number with this language's digits and separators."""
        return formatting.number(value, self.code)

    def fixed(self, value: Decimal | float, places: int) -> str:
        """A grouped number with ``places`` decimals, in this language's digits and separators."""
        return formatting.fixed(value, places, self.code)

    def money(self, value: Decimal, currency: str) -> str:
        """An amount with its currency code."""
        return formatting.money(value, currency, self.code)

    def date(self, instant: dt.datetime | dt.date) -> str:
        """A date: Jalali in Persian, Gregorian in English."""
        return formatting.date_text(instant, self.code, self.tz)

    def datetime(self, instant: dt.datetime) -> str:
        """A date with weekday and local time."""
        return formatting.datetime_text(instant, self.code, self.tz)

    def iso(self, instant: dt.datetime) -> str:
        """The local instant in ISO 8601 (for ``<time datetime>``)."""
        return formatting.iso_local(instant, self.tz)
