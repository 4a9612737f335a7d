"""The rules engine tests each line only against the rules of its HS chapter; what it finds
is exactly what testing every rule against every line finds."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from panjereh.rules import engine
from panjereh.rules.document import RuleSetDocument
from panjereh.rules.service import default_document

DOCUMENT = RuleSetDocument.model_validate(default_document())
PREFIXES = sorted({p for r in DOCUMENT.rules for p in r.hs_prefixes if p != "*"})


def _every_rule_every_line(
    document: RuleSetDocument, filing: engine.Filing
) -> dict[str, tuple[list[str], list[int]]]:
    """The straightforward reading: each rule that applies, against each line."""
    total_usd = engine.total_value_usd(document, filing.lines)
    found: dict[str, tuple[list[str], set[int]]] = {}
    for rule in document.rules:
        if filing.kind not in rule.kinds:
            continue
        if (
            rule.min_total_value_usd is not None
            and total_usd is not None
            and not total_usd > rule.min_total_value_usd
        ):
            continue
        matched = {
            line.line_no
            for line in filing.lines
            if ("*" in rule.hs_prefixes or line.hs_code.startswith(rule.hs_prefixes))
            and (rule.origins is None or line.origin_country in rule.origins)
            and line.origin_country not in rule.origins_excluded
            and line.currency not in rule.currencies_excluded
        }
        if matched:
            codes, lines = found.setdefault(rule.inquiry_type, ([], set()))
            codes.append(rule.code)
            lines |= matched
    return {kind: (codes, sorted(lines)) for kind, (codes, lines) in found.items()}


hs_codes = st.one_of(
    st.builds(
        lambda prefix, rest: (prefix + rest)[:6],
        st.sampled_from(PREFIXES),
        st.text("0123456789", min_size=6, max_size=6),
    ),
    st.text("0123456789", min_size=6, max_size=6),
)
lines = st.lists(
    st.tuples(
        hs_codes,
        st.sampled_from(["CN", "VN", "DE", "TR", "AE", "IN", "IR"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**7), places=2),
        st.sampled_from(["USD", "EUR", "IRR", "CNY", "XAF"]),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300)
@given(kind=st.sampled_from(["import", "export", "transit"]), items=lines)
def test_chapters_find_what_every_rule_on_every_line_finds(
    kind: str, items: list[tuple[str, str, Decimal, str]]
) -> None:
    filing = engine.Filing(
        kind=kind,
        lines=[engine.GoodsLine(n, *item) for n, item in enumerate(items, start=1)],
    )
    found = {
        r.inquiry_type: (r.rule_codes, r.item_lines) for r in engine.requirements(DOCUMENT, filing)
    }
    assert found == _every_rule_every_line(DOCUMENT, filing)
