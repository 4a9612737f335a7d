"""Searching the HS 2022 nomenclature by code prefix or by words, for the declaration form.

A query of digits (Persian, Arabic-Indic or Western) matches codes that start with it; a query
of words matches descriptions that contain every word (case-insensitive, any order). Only
6-digit subheadings are offered, since an item's code must be one (or an 8-digit line under
one); the heading and chapter are shown beside each for orientation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from panjereh.formatting import ascii_digits
from panjereh.reference import hs_nomenclature

MAX_RESULTS = 20
MIN_WORD_QUERY = 2


@dataclass(frozen=True, slots=True)
class HsMatch:
    """A subheading that matches a query, with its heading for context."""

    code: str
    description: str
    heading: str
    section: str


@cache
def _index() -> tuple[tuple[str, str, str, str, str], ...]:
    """(code, lowercased text, description, heading description, section) per subheading."""
    nomenclature = hs_nomenclature()
    rows = []
    for code, entry in sorted(nomenclature.items()):
        if entry.level != 6 or code.startswith("99"):
            continue
        heading = nomenclature.get(code[:4])
        heading_text = heading.description if heading else ""
        haystack = f"{entry.description} {heading_text}".lower()
        rows.append((code, haystack, entry.description, heading_text, entry.section))
    return tuple(rows)


def search(query: str, *, limit: int = MAX_RESULTS) -> list[HsMatch]:
    """Subheadings matching ``query`` by code prefix or words, in code order."""
    text = ascii_digits(query).strip().lower()
    if not text:
        return []
    compact = re.sub(r"[\s.]", "", text)
    if compact.isdigit():
        matches = (row for row in _index() if row[0].startswith(compact[:6]))
    else:
        words = [w for w in re.split(r"[^\w]+", text) if w]
        if not words or len("".join(words)) < MIN_WORD_QUERY:
            return []
        matches = (row for row in _index() if all(w in row[1] for w in words))
    found = []
    for code, _, description, heading, section in matches:
        found.append(HsMatch(code, description, heading, section))
        if len(found) >= limit:
            break
    return found
