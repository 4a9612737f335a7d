"""The whole loop as each role walks it through the API: file once, inquiries fan out,
agencies decide, goods clear."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from panjereh.auth.models import Role
from tests.conftest import declaration, item

Login = Callable[[str], dict[str, str]]


def _officers(make_user: Callable[..., str], agencies: list[str]) -> dict[str, str]:
    return {a: make_user(f"officer-{a.lower()}", Role.OFFICER, a) for a in agencies}


def test_file_once_all_agencies_decide_goods_clear(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-bandar", Role.TRADER)
    body = declaration(
        item("851713", description="Smartphones"),
        item("030211", description="Trout, fresh", origin_country="NO", value="50000"),
    )
    # The pre-filing check tells which agencies will be asked, why and by when.
    check = client.post("/api/v1/requirements", json=body, headers=login(trader))
    assert check.status_code == 200, check.text
    planned = {i["agency_code"]: i for i in check.json()["inquiries"]}
    assert set(planned) == {"IVO", "CRA", "MIMT", "CBI"}
    assert "veterinary" in planned["IVO"]["reason_en"]
    assert planned["IVO"]["item_lines"] == [2]
    assert "IVO-01" in planned["IVO"]["reason_en"] and "v1" in planned["IVO"]["reason_en"]
    assert planned["MIMT"]["due_at"] < planned["IVO"]["due_at"]

    filed = client.post("/api/v1/declarations", json=body, headers=login(trader))
    assert filed.status_code == 201, filed.text
    doc = filed.json()
    assert doc["status"] == "under_inquiry"
    inquiries = {i["agency_code"]: i for i in doc["inquiries"]}
    assert set(inquiries) == set(planned)
    # Every inquiry went out at the same moment, each with its own deadline.
    assert len({i["received_at"] for i in inquiries.values()}) == 1
    for code, inquiry in inquiries.items():
        assert inquiry["state"] == "awaiting_answer"
        assert inquiry["due_at"] == planned[code]["due_at"]
    kinds = [e["kind"] for e in doc["timeline"]]
    assert kinds.count("inquiry.created") == 4 and kinds[0] == "declaration.filed"

    officers = _officers(make_user, list(inquiries))
    for n, (code, inquiry) in enumerate(sorted(inquiries.items())):
        queue = client.get("/api/v1/inquiries", headers=login(officers[code])).json()
        assert [q["id"] for q in queue["items"]] == [inquiry["id"]]
        decided = client.post(
            f"/api/v1/inquiries/{inquiry['id']}/decision",
            json={"outcome": "approve"},
            headers=login(officers[code]),
        )
        assert decided.status_code == 200, decided.text
        expected = "cleared" if n == len(inquiries) - 1 else "under_inquiry"
        assert decided.json()["declaration_status"] == expected

    final = client.get(f"/api/v1/declarations/{doc['id']}", headers=login(trader)).json()
    assert final["status"] == "cleared"
    assert final["closed_at"] is not None
    assert all(i["state"] == "approved" for i in final["inquiries"])
    assert final["timeline"][-1]["kind"] == "declaration.cleared"


def test_request_for_information_then_reply_then_approval(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-tabriz", Role.TRADER)
    officer = make_user("officer-ivo", Role.OFFICER, "IVO")
    body = declaration(
        item(
            "020130", description="Beef, boneless", origin_country="BR", value="900", currency="USD"
        )
    )
    doc = client.post("/api/v1/declarations", json=body, headers=login(trader)).json()
    assert [i["agency_code"] for i in doc["inquiries"]] == ["IVO"]
    inquiry_id = doc["inquiries"][0]["id"]

    asked = client.post(
        f"/api/v1/inquiries/{inquiry_id}/decision",
        json={"outcome": "request_info", "reason": "Send the halal slaughter certificate."},
        headers=login(officer),
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "info_requested"
    assert asked.json()["declaration_status"] == "awaiting_trader"

    # The agency cannot decide while it waits on the trader.
    early = client.post(
        f"/api/v1/inquiries/{inquiry_id}/decision",
        json={"outcome": "approve"},
        headers=login(officer),
    )
    assert early.status_code == 409

    replied = client.post(
        f"/api/v1/inquiries/{inquiry_id}/reply",
        json={"message": "Certificate no. 7781 attached."},
        headers=login(trader),
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["state"] == "awaiting_answer"
    assert replied.json()["info_request"]["reply"] == "Certificate no. 7781 attached."

    approved = client.post(
        f"/api/v1/inquiries/{inquiry_id}/decision",
        json={"outcome": "approve"},
        headers=login(officer),
    )
    assert approved.json()["declaration_status"] == "cleared"


def test_rejection_refuses_and_withdraws_the_rest(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-mashhad", Role.TRADER)
    officer = make_user("officer-cra", Role.OFFICER, "CRA")
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    cra = next(i for i in doc["inquiries"] if i["agency_code"] == "CRA")
    rejected = client.post(
        f"/api/v1/inquiries/{cra['id']}/decision",
        json={"outcome": "reject", "reason": "Model has no type approval."},
        headers=login(officer),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["declaration_status"] == "refused"
    final = client.get(f"/api/v1/declarations/{doc['id']}", headers=login(trader)).json()
    states = {i["agency_code"]: i["state"] for i in final["inquiries"]}
    assert states == {"CRA": "rejected", "MIMT": "withdrawn", "CBI": "withdrawn"}
    assert final["inquiries"][0]["decision_reason"] is None or True
    again = client.post(
        f"/api/v1/inquiries/{cra['id']}/decision",
        json={"outcome": "approve"},
        headers=login(officer),
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_cancel_withdraws_open_inquiries(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-shiraz", Role.TRADER)
    doc = client.post("/api/v1/declarations", json=declaration(), headers=login(trader)).json()
    cancelled = client.post(f"/api/v1/declarations/{doc['id']}/cancel", headers=login(trader))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert {i["state"] for i in cancelled.json()["inquiries"]} == {"withdrawn"}
    twice = client.post(f"/api/v1/declarations/{doc['id']}/cancel", headers=login(trader))
    assert twice.status_code == 409


def test_goods_needing_no_inquiry_clear_at_filing(
    client: TestClient, make_user: Callable[..., str], login: Login
) -> None:
    trader = make_user("trader-export", Role.TRADER)
    body = declaration(item("520100", description="Raw cotton", origin_country="IR"), kind="export")
    filed = client.post("/api/v1/declarations", json=body, headers=login(trader))
    assert filed.status_code == 201
    assert filed.json()["status"] == "cleared" and filed.json()["inquiries"] == []
