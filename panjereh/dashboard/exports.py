"""Every table of the dashboard as data: JSON, CSV or XLSX from the same rows.

Nested figures are flattened into columns (``agency_minutes.p50.low``); lists become numbered
columns (``escalations.1``). Dates and instants are ISO 8601; decimals keep their digits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested row as flat columns."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple) and not any(isinstance(v, Mapping) for v in value):
            for n, item in enumerate(value, start=1):
                flat[f"{name}.{n}"] = item
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def table(rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Column names (in first-seen order) and the flattened rows."""
    flat = [flatten(r) for r in rows]
    columns: dict[str, None] = {}
    for row in flat:
        for name in row:
            columns.setdefault(name, None)
    names = list(columns)
    return names, [[_cell(row.get(n)) for n in names] for row in flat]


def csv_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read Persian text)."""
    names, values = table(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(values)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Iterable[Mapping[str, Any]], *, sheet: str) -> bytes:
    """The rows as one worksheet of an XLSX workbook (numbers stay numbers)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # only exports need it

    names, values = table(rows)
    book = Workbook(write_only=True)
    page = book.create_sheet(title=sheet[:31] or "data")
    page.append(names)
    for row in values:
        page.append([float(v) if isinstance(v, str) and _is_decimal(v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _is_decimal(text: str) -> bool:
    if not text or len(text) > 30:
        return False
    head = text[1:] if text[0] == "-" else text
    return head.replace(".", "", 1).isdigit() and not head.startswith(".")


def respond(body: Any, rows: Sequence[Mapping[str, Any]], *, fmt: str, name: str) -> Response | Any:
    """``body`` as JSON (returned as is), or ``rows`` as a CSV or XLSX download."""
    if fmt == "csv":
        return Response(
            csv_bytes(rows),
            media_type=CSV_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            xlsx_bytes(rows, sheet=name),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return body
