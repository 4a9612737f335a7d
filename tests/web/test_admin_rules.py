"""Rule sets and escalation policies through the administrator's pages: upload (pasted or as
a file), errors by field path in both languages, preview under a stored version, activation
after a confirmation; a new ladder version, and a clear error when its steps are out of
order. Nothing is stored from an invalid form."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from panjereh.auth.models import Role
from panjereh.escalation.models import EscalationPolicyRecord
from panjereh.rules.models import RuleSetRecord
from panjereh.rules.service import default_document
from tests.conftest import declaration, item
from tests.web.conftest import Browser, count_rows


def _document(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(default_document())
    document.update(changes)
    return document


@pytest.fixture
def admin(browser: Browser, make_user: Callable[..., str]) -> Browser:
    make_user("admin", Role.ADMIN)
    browser.sign_in("admin")
    return browser


def test_a_new_version_is_stored_inactive_previewed_then_activated(
    admin: Browser, session_factory: Any
) -> None:
    page = admin.get("/admin/rules")
    assert page.status_code == 200 and "فعال" in page.text
    # Version 2: the same rules without the telecoms type approval.
    document = _document(name="Without CRA")
    document["rules"] = [r for r in document["rules"] if r["inquiry_type"] != "CRA-TYPE"]
    stored = admin.post("/admin/rules", {"document": json.dumps(document, ensure_ascii=False)})
    assert stored.status_code == 303, stored.text
    listing = admin.get("/admin/rules")
    assert "نسخه ۲ ذخیره شد" in listing.text or "به عنوان نسخه ۲ ذخیره شد" in listing.text
    with session_factory() as s:
        versions = {r.version: r.is_active for r in s.query(RuleSetRecord)}
    assert versions == {1: True, 2: False}

    sample = json.dumps(declaration(item()))
    under_active = admin.post("/admin/rules/preview", {"document": sample, "version": ""})
    under_new = admin.post("/admin/rules/preview", {"document": sample, "version": "2"})
    cra = "سازمان تنظیم مقررات و ارتباطات رادیویی"
    assert under_active.status_code == 200 and cra in under_active.text
    assert under_new.status_code == 200 and cra not in under_new.text
    assert "بر پایه نسخه ۲ ضوابط" in under_new.text
    unknown = admin.post("/admin/rules/preview", {"document": sample, "version": "99"})
    assert unknown.status_code == 422 and "یکی از نسخه‌های ذخیره‌شده" in unknown.text

    review = admin.post("/admin/rules/2/activate", {"step": "review"})
    assert review.status_code == 200 and "نسخه ۲ فعال شود؟" in review.text
    with session_factory() as s:
        assert s.get(RuleSetRecord, 2).is_active is False  # not before the confirmation
    token = admin.form_token()
    done = admin.post("/admin/rules/2/activate", {"step": "confirm", "form_token": token})
    assert done.status_code == 303
    with session_factory() as s:
        versions = {r.version: r.is_active for r in s.query(RuleSetRecord)}
    assert versions == {1: False, 2: True}
    assert admin.get("/admin/rules/2.json").json()["name"] == "Without CRA"


def test_a_rule_set_can_be_uploaded_as_a_file(admin: Browser, session_factory: Any) -> None:
    admin.get("/admin/rules")
    body = json.dumps(_document(name="From a file")).encode()
    stored = admin.client.post(
        "/admin/rules",
        data={"csrf_token": admin.csrf(), "document": ""},
        files={"file": ("rules.json", body, "application/json")},
    )
    assert stored.status_code == 303, stored.text
    with session_factory() as s:
        assert s.get(RuleSetRecord, 2).name == "From a file"


def _broken(kind: str) -> str:
    document = _document()
    if kind == "json":
        return "{not json"
    if kind == "agency":
        document["inquiry_types"][0]["agency"] = "NOPE"
    elif kind == "prefix":
        document["rules"][2]["hs_prefixes"] = ["8"]
    elif kind == "unknown-type":
        document["rules"][0]["inquiry_type"] = "GHOST"
    elif kind == "missing":
        del document["name"]
    return json.dumps(document, ensure_ascii=False)


@pytest.mark.parametrize(
    ("kind", "where", "fa", "en"),
    [
        ("json", "", "JSON معتبر نیست", "This is not valid JSON."),
        (
            "agency",
            "inquiry_types[0].agency",
            "NOPE دستگاه شناخته‌شده‌ای نیست.",
            "NOPE is not a known agency.",
        ),
        (
            "prefix",
            "rules[2].hs_prefixes",
            "پیشوند تعرفه 8 باید * یا ۲ تا ۸ رقم باشد.",
            "HS prefix 8 must be * or 2 to 8 digits.",
        ),
        (
            "unknown-type",
            "",
            "ضابطه IVO-01 به GHOST اشاره می‌کند",
            "Rule IVO-01 names GHOST, which is not among the inquiry types.",
        ),
        ("missing", "name", "این خانه را پر کنید.", "Fill in this field."),
    ],
)
def test_a_bad_rule_set_is_refused_whole_with_errors_by_path(
    admin: Browser, session_factory: Any, kind: str, where: str, fa: str, en: str
) -> None:
    admin.get("/admin/rules")
    document = _broken(kind)
    page = admin.post("/admin/rules", {"document": document})
    assert page.status_code == 422 and fa in page.text
    if where:
        assert f'<code dir="ltr">{where}</code>' in page.text
    assert 'aria-invalid="true"' in page.text
    admin.english()
    page = admin.post("/admin/rules", {"document": document})
    assert page.status_code == 422 and en in page.text
    assert "The rule set is not valid" in page.text
    assert count_rows(session_factory, RuleSetRecord) == 1


def test_an_empty_upload_is_refused(admin: Browser, session_factory: Any) -> None:
    admin.get("/admin/rules")
    page = admin.post("/admin/rules", {"document": "  "})
    assert page.status_code == 422
    assert "مجموعه ضوابط را اینجا بگذارید یا پرونده‌ای برگزینید." in page.text
    assert count_rows(session_factory, RuleSetRecord) == 1


def _ladder(*steps: tuple[str, str, str, list[str]], **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for n, (name, days, share, notify) in enumerate(steps):
        fields[f"steps-{n}-name"] = name
        fields[f"steps-{n}-days"] = days
        fields[f"steps-{n}-share"] = share
        fields[f"steps-{n}-notify"] = notify
    fields.update(extra)
    return fields


def test_the_policy_pages_show_each_ladder_and_store_a_new_version(
    admin: Browser, session_factory: Any
) -> None:
    overview = admin.get("/admin/policies")
    assert overview.status_code == 200
    assert "CRA-TYPE" in overview.text and "۷ روز کاری" in overview.text
    page = admin.get("/admin/policies/CRA-TYPE")
    assert page.status_code == 200 and 'value="at_risk"' in page.text  # starts from the ladder
    fields = _ladder(
        ("early", "-2", "50", ["agency_officers"]),
        ("late", "0", "", ["agency_head", "supervisor"]),
        ("very_late", "۳", "", ["supervisor"]),  # Persian digits are read too
        **{"repeat-every": "2", "repeat-max": "3", "repeat-notify": ["supervisor"]},
    )
    fields["steps-2-report"] = "on"
    stored = admin.post("/admin/policies/CRA-TYPE", fields)
    assert stored.status_code == 303, stored.text
    with session_factory() as s:
        record = (
            s.query(EscalationPolicyRecord).filter_by(inquiry_type="CRA-TYPE", is_active=True).one()
        )
    assert record.version == 2
    assert [st["name"] for st in record.document["steps"]] == ["early", "late", "very_late"]
    assert record.document["steps"][0]["budget_share"] == 0.5
    assert record.document["steps"][2]["immediate_report"] is True
    assert record.document["repeat"]["max_times"] == 3
    after = admin.get("/admin/policies/CRA-TYPE")
    assert "نسخه ۲" in after.text and 'value="very_late"' in after.text


@pytest.mark.parametrize(
    ("fields", "key", "fa", "en"),
    [
        (
            _ladder(("late", "2", "", ["agency_head"]), ("early", "-1", "", ["agency_officers"])),
            "steps",
            "ترتیب پله‌ها نادرست است",
            "The steps are out of order",
        ),
        (
            _ladder(("late", "0", "", [])),
            "steps-0-notify",
            "برگزینید در این پله به چه کسی خبر داده شود.",
            "Choose who is told at this step.",
        ),
        (
            _ladder(("early", "-1", "150", ["agency_officers"])),
            "steps-0-share",
            "سهمی از مهلت میان ۱ تا ۹۹ درصد بنویسید",
            "Give a share of the budget between 1 and 99 percent",
        ),
        (
            _ladder(("Late Step", "0", "", ["agency_head"])),
            "steps-0-name",
            "نام پله را با حروف کوچک لاتین",
            "Name the step in lower-case Latin letters",
        ),
        (
            _ladder(("late", "soon", "", ["agency_head"])),
            "steps-0-days",
            "یک عدد صحیح وارد کنید.",
            "Enter a whole number.",
        ),
        (
            _ladder(("late", "0", "", ["agency_head"]), **{"repeat-every": "2"}),
            "repeat-max",
            "هر دو خانه تکرار را پر کنید",
            "Fill in both repeat fields",
        ),
        (
            _ladder(("late", "0", "20", ["agency_head"])),
            "steps",
            "تنها پله‌ای پیش از پایان مهلت",
            "can only trigger a step before the deadline",
        ),
        ({}, "steps", "نردبان دست‌کم یک پله لازم دارد.", "A ladder needs at least one step."),
    ],
)
def test_a_bad_ladder_is_refused_on_its_field_in_both_languages(
    admin: Browser,
    session_factory: Any,
    fields: dict[str, Any],
    key: str,
    fa: str,
    en: str,
) -> None:
    admin.get("/admin/policies/CRA-TYPE")
    before = count_rows(session_factory, EscalationPolicyRecord)
    page = admin.post("/admin/policies/CRA-TYPE", fields)
    assert page.status_code == 422 and fa in page.text
    assert f'id="{key}-error"' in page.text
    for name, value in fields.items():
        if isinstance(value, str) and value:
            assert f'value="{value}"' in page.text  # what was typed is kept
    admin.english()
    page = admin.post("/admin/policies/CRA-TYPE", fields)
    assert page.status_code == 422 and en in page.text
    assert count_rows(session_factory, EscalationPolicyRecord) == before


def test_an_unknown_inquiry_type_has_no_policy_page(admin: Browser) -> None:
    assert admin.get("/admin/policies/NOPE").status_code == 404
    admin.get("/admin/policies")
    assert (
        admin.post("/admin/policies/NOPE", _ladder(("late", "0", "", ["agency_head"]))).status_code
        == 404
    )
