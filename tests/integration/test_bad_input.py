"""Bad input gets a 4xx problem+json naming the field and the reason, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.declarations.models import Declaration, DeclarationItem
from panjereh.inquiries.models import Inquiry
from tests.conftest import declaration, item

Login = Callable[[str], dict[str, str]]


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.scalar(select(func.count()).select_from(t)) or 0
            for t in (Declaration, DeclarationItem, Inquiry, Event)
        )


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    assert body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


BAD_BODIES = [
    ("malformed HS code", declaration(item("85171")), "items[0].hs_code", "6 digits"),
    ("letters in HS code", declaration(item("85171A")), "items[0].hs_code", "digits"),
    ("unknown HS code", declaration(item("999999")), "items[0].hs_code", "not an HS 2022"),
    (
        "8-digit line under unknown code",
        declaration(item("99999901")),
        "items[0].hs_code",
        "not an HS 2022",
    ),
    (
        "unknown country",
        declaration(item(origin_country="XX")),
        "items[0].origin_country",
        "ISO 3166-1",
    ),
    (
        "lower-case country",
        declaration(item(origin_country="cn")),
        "items[0].origin_country",
        "ISO 3166-1",
    ),
    ("unknown province", declaration(province="IR-31"), "province", "ISO 3166-2:IR"),
    ("old-scheme province", declaration(province="IR-32"), "province", "ISO 3166-2:IR"),
    (
        "unknown customs office",
        declaration(customs_office="NOPE"),
        "customs_office",
        "customs office",
    ),
    ("zero quantity", declaration(item(quantity="0")), "items[0].quantity", "greater than 0"),
    ("negative value", declaration(item(value="-5")), "items[0].value", "greater than 0"),
    ("zero value", declaration(item(value="0")), "items[0].value", "greater than 0"),
    ("unknown currency", declaration(item(currency="XYZ")), "items[0].currency", "ISO 4217"),
    ("empty item list", {**declaration(), "items": []}, "items", "at least 1"),
    ("unknown kind", declaration(kind="smuggling"), "kind", "import"),
    (
        "missing description",
        declaration(item(description="")),
        "items[0].description",
        "at least 1",
    ),
    ("unknown field", {**declaration(), "trader_id": 99}, "trader_id", "not permitted"),
    ("second item bad", declaration(item(), item("12")), "items[1].hs_code", "6 digits"),
]


@pytest.mark.parametrize(
    ("case", "body", "field", "words"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
def test_bad_declaration_is_refused_and_nothing_stored(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    engine: Engine,
    case: str,
    body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    trader = make_user("trader-bad", Role.TRADER)
    before = _counts(engine)
    for path in ("/api/v1/declarations", "/api/v1/requirements"):
        problem = _problem(client.post(path, json=body, headers=login(trader)), 422, field)
        reasons = " ".join(e["reason"] for e in problem["errors"] if e["field"] == field)
        assert words in reasons, problem
    assert _counts(engine) == before


def test_body_over_the_limit_is_refused(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-big", Role.TRADER)
    before = _counts(engine)
    huge = declaration(*[item(description="x" * 480) for _ in range(3000)])
    _problem(client.post("/api/v1/declarations", json=huge, headers=login(trader)), 413, "body")
    assert _counts(engine) == before


def test_too_many_items_is_refused(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-many", Role.TRADER)
    many = declaration(*[item(description="x") for _ in range(501)])
    _problem(client.post("/api/v1/declarations", json=many, headers=login(trader)), 422, "items")


def test_not_json_is_refused(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-garbled", Role.TRADER)
    response = client.post(
        "/api/v1/declarations",
        content=b"{not json",
        headers={**login(trader), "content-type": "application/json"},
    )
    _problem(response, 422)


def test_wrong_role_cannot_file_or_decide(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-a", Role.TRADER)
    officer = make_user("officer-ifda", Role.OFFICER, "IFDA")
    supervisor = make_user("supervisor", Role.SUPERVISOR)
    before = _counts(engine)
    for user in (officer, supervisor):
        _problem(client.post("/api/v1/declarations", json=declaration(), headers=login(user)), 403)
    assert _counts(engine) == before
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    inquiry_id = doc["inquiries"][0]["id"]
    before = _counts(engine)
    for user in (trader, supervisor):
        _problem(
            client.post(
                f"/api/v1/inquiries/{inquiry_id}/decision",
                json={"outcome": "approve"},
                headers=login(user),
            ),
            403,
        )
    # An officer of another agency is told the inquiry does not exist.
    _problem(
        client.post(
            f"/api/v1/inquiries/{inquiry_id}/decision",
            json={"outcome": "approve"},
            headers=login(officer),
        ),
        404,
    )
    _problem(client.get("/api/v1/inquiries", headers=login(trader)), 403)
    assert _counts(engine) == before


def test_someone_elses_declaration_is_not_found(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    owner = make_user("trader-owner", Role.TRADER)
    other = make_user("trader-other", Role.TRADER)
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(owner)).json()
    _problem(client.get(f"/api/v1/declarations/{doc['id']}", headers=login(other)), 404)
    before = _counts(engine)
    _problem(client.post(f"/api/v1/declarations/{doc['id']}/cancel", headers=login(other)), 404)
    _problem(
        client.get(f"/api/v1/inquiries/{doc['inquiries'][0]['id']}", headers=login(other)), 404
    )
    assert client.get("/api/v1/declarations", headers=login(other)).json()["items"] == []
    assert _counts(engine) == before


@pytest.mark.parametrize("outcome", ["reject", "request_info"])
def test_decision_without_required_reason(
    client: TestClient,
    make_user: Callable[..., str],
    login: Login,
    engine: Engine,
    outcome: str,
) -> None:
    trader = make_user("trader-r", Role.TRADER)
    officer = make_user("officer-mimt", Role.OFFICER, "MIMT")
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    mimt = next(i for i in doc["inquiries"] if i["agency_code"] == "MIMT")
    before = _counts(engine)
    for body in ({"outcome": outcome}, {"outcome": outcome, "reason": "   "}):
        _problem(
            client.post(
                f"/api/v1/inquiries/{mimt['id']}/decision", json=body, headers=login(officer)
            ),
            422,
            "reason",
        )
    _problem(
        client.post(
            f"/api/v1/inquiries/{mimt['id']}/decision",
            json={"outcome": "maybe"},
            headers=login(officer),
        ),
        422,
        "outcome",
    )
    assert _counts(engine) == before


def test_decision_on_closed_inquiry_and_reply_to_nothing(
    client: TestClient, make_user: Callable[..., str], login: Login, engine: Engine
) -> None:
    trader = make_user("trader-c", Role.TRADER)
    officer = make_user("officer-cbi", Role.OFFICER, "CBI")
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    cbi = next(i for i in doc["inquiries"] if i["agency_code"] == "CBI")
    path = f"/api/v1/inquiries/{cbi['id']}"
    # A reply to an inquiry that asked for nothing.
    _problem(client.post(f"{path}/reply", json={"message": "here"}, headers=login(trader)), 409)
    assert (
        client.post(
            f"{path}/decision", json={"outcome": "approve"}, headers=login(officer)
        ).status_code
        == 200
    )
    before = _counts(engine)
    for body in ({"outcome": "approve"}, {"outcome": "reject", "reason": "changed my mind"}):
        problem = _problem(client.post(f"{path}/decision", json=body, headers=login(officer)), 409)
        assert "approved" in problem["detail"]
    assert _counts(engine) == before


def test_unauthenticated_and_forged_tokens(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    make_user("trader-x", Role.TRADER)
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = client.get("/api/v1/declarations", headers=headers)
        _problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    bad = client.post("/api/v1/auth/token", data={"username": "trader-x", "password": "nope!"})
    _problem(bad, 401)
    ghost = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x" * 12})
    _problem(ghost, 401)
