"""The JSON Schemas in docs/schemas are the ones the code validates messages against."""

from __future__ import annotations

from pathlib import Path

import pytest

from panjereh.exchange.wire import SCHEMAS, schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_documented_schema_is_current(name: str) -> None:
    written = (DOCS / name).read_text()
    assert written == schema_text(SCHEMAS[name]), (
        f"docs/schemas/{name} is out of date: run python -m panjereh.exchange.wire docs/schemas"
    )
