"""Two answers to the same inquiry at the same moment: exactly one is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.clock import ManualClock
from panjereh.db import transaction
from panjereh.declarations import flows as declaration_flows
from panjereh.declarations.models import Declaration
from panjereh.declarations.schemas import DeclarationIn
from panjereh.errors import Conflict
from panjereh.inquiries import flows as inquiry_flows
from panjereh.inquiries.schemas import DecisionIn
from tests.conftest import declaration, filed_through_api, item


def test_racing_decisions_record_one(
    session_factory: sessionmaker[Session],
    clock: ManualClock,
    make_user: Callable[..., str],
) -> None:
    make_user("trader", Role.TRADER)
    trader = Principal(id=1, username="trader", role=Role.TRADER)
    officers = [
        Principal(id=None, username=f"ivo-{n}", role=Role.OFFICER, agency_code="IVO")
        for n in range(2)
    ]
    payload = DeclarationIn.model_validate(declaration(item("020130", value="900")))
    with transaction(session_factory) as s:
        inquiry_id = (
            declaration_flows.file_declaration(
                session=s, principal=trader, payload=payload, at=clock.now()
            )
            .inquiries[0]
            .id
        )

    barrier, outcomes = threading.Barrier(2), []

    def answer(officer: Principal, outcome: str) -> None:
        barrier.wait()
        try:
            with transaction(session_factory) as s:
                inquiry_flows.decide(
                    session=s,
                    principal=officer,
                    inquiry_id=inquiry_id,
                    at=clock.now(),
                    decision=DecisionIn(outcome=outcome, reason="r"),  # type: ignore[arg-type]
                )
            outcomes.append(outcome)
        except (Conflict, StaleDataError):
            outcomes.append("refused")

    threads = [
        threading.Thread(target=answer, args=(o, x))
        for o, x in zip(officers, ["approve", "reject"], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    with session_factory() as s:
        decided = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.kind.in_(["inquiry.approved", "inquiry.rejected"]))
        )
        assert decided == 1
        assert verify(s).ok


def test_last_two_approvals_at_once_still_clear(
    session_factory: sessionmaker[Session],
    clock: ManualClock,
    make_user: Callable[..., str],
) -> None:
    make_user("trader", Role.TRADER)
    trader = Principal(id=1, username="trader", role=Role.TRADER)
    payload = DeclarationIn.model_validate(
        declaration(
            item("020130", description="Beef", value="400"),
            item("080410", description="Dates", value="400"),
        )
    )
    for _ in range(5):
        with transaction(session_factory) as s:
            filed = declaration_flows.file_declaration(
                session=s, principal=trader, payload=payload, at=clock.now()
            )
            pairs = [(i.id, i.agency_code) for i in filed.inquiries]
            declaration_id = filed.id
        assert sorted(a for _, a in pairs) == ["IVO", "PPO"]
        barrier = threading.Barrier(2)

        def approve(inquiry_id: int, agency: str) -> None:
            officer = Principal(
                id=None, username=f"o-{agency}", role=Role.OFFICER, agency_code=agency
            )
            barrier.wait()
            with transaction(session_factory) as s:
                inquiry_flows.decide(
                    session=s,
                    principal=officer,
                    inquiry_id=inquiry_id,
                    decision=DecisionIn(outcome="approve"),
                    at=clock.now(),
                )

        threads = [threading.Thread(target=approve, args=p) for p in pairs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with session_factory() as s:
            from panjereh.declarations.models import Declaration

            assert s.get_one(Declaration, declaration_id).status == "cleared"


def test_many_requests_at_once_through_the_api(
    client: TestClient, make_user: Callable[..., str], login: Callable[[str], dict[str, str]]
) -> None:
    """Six traders file and their declarations are answered at once, over the API, with a
    refusal (422, 409) among every trader's requests: every request is answered, every
    declaration clears, and the chain holds. (On SQLite the requests take turns for the
    store in the event loop, and a refused request must give its turn back.)"""
    traders = [make_user(f"trader-{n}", Role.TRADER) for n in range(6)]
    officers = {a: make_user(f"o-{a}", Role.OFFICER, a) for a in ("IVO", "PPO")}
    headers = {u: login(u) for u in [*traders, *officers.values()]}
    body = declaration(
        item("020130", description="Beef", value="400"),
        item("080410", description="Dates", value="400"),
    )
    barrier, statuses = threading.Barrier(len(traders)), []

    def trade(trader: str) -> None:
        barrier.wait()
        filed = client.post("/api/v1/declarations", json=body, headers=headers[trader])
        statuses.append(filed.status_code)
        for inquiry in filed.json()["inquiries"]:
            officer = headers[officers[inquiry["agency_code"]]]
            path = f"/api/v1/inquiries/{inquiry['id']}/decision"
            no_reason = client.post(path, json={"outcome": "reject"}, headers=officer)
            approved = client.post(path, json={"outcome": "approve"}, headers=officer)
            again = client.post(path, json={"outcome": "approve"}, headers=officer)
            statuses.extend([no_reason.status_code, approved.status_code, again.status_code])

    threads = [threading.Thread(target=trade, args=(t,)) for t in traders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == sorted([201] * 6 + [422, 200, 409] * 12)
    for trader in traders:
        listed = client.get("/api/v1/declarations", headers=headers[trader]).json()
        assert [d["status"] for d in listed["items"]] == ["cleared"]
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        assert verify(s).ok


BEEF = item("020130", description="Beef", value="400")
"""Goods that need one inquiry, from IVO."""


def test_a_decision_waiting_for_the_store_does_not_stop_the_server(
    client: TestClient,
    engine: Engine,
    make_user: Callable[..., str],
    login: Callable[[str], dict[str, str]],
) -> None:
    """While another process holds the declaration (on SQLite: the store's write lock), a
    decision on it waits, in a thread, and the server goes on answering; the decision is
    answered once the lock is let go. (On SQLite a request's work runs in the event loop
    only when the lock is free at that instant.)"""
    trader, officer = make_user("t", Role.TRADER), make_user("o", Role.OFFICER, "IVO")
    filed = filed_through_api(client, login(trader), BEEF)
    inquiry = next(i for i in filed["inquiries"] if i["agency_code"] == "IVO")
    officer_headers = login(officer)
    other_process = engine.connect()
    other_process.begin()
    other_process.execute(
        select(Declaration).where(Declaration.id == filed["id"]).with_for_update()
    )
    answers: list[int] = []
    deciding = threading.Thread(
        target=lambda: answers.append(
            client.post(
                f"/api/v1/inquiries/{inquiry['id']}/decision",
                json={"outcome": "approve"},
                headers=officer_headers,
            ).status_code
        )
    )
    try:
        deciding.start()
        deciding.join(timeout=0.5)
        assert deciding.is_alive()  # waiting for the lock
        served: list[int] = []
        other = threading.Thread(
            target=lambda: served.append(client.get("/openapi.json").status_code)
        )
        other.start()
        other.join(timeout=10)
        assert served == [200] and deciding.is_alive()
    finally:
        other_process.commit()
        other_process.close()
    deciding.join(timeout=30)
    assert answers == [200]


def test_a_refusal_whose_lookup_finds_the_store_taken_is_answered(
    client: TestClient,
    engine: Engine,
    make_user: Callable[..., str],
    login: Callable[[str], dict[str, str]],
) -> None:
    """A decision on a closed inquiry is refused (409); its work then looks for a concurrent
    answer in a second transaction. If another process takes the store between the two, the
    work (nothing committed) runs again in a thread, where it may wait, and the refusal is
    still answered: the event loop never waits on the lock."""
    trader, officer = make_user("t", Role.TRADER), make_user("o", Role.OFFICER, "IVO")
    filed = filed_through_api(client, login(trader), BEEF)
    path = f"/api/v1/inquiries/{filed['inquiries'][0]['id']}/decision"
    headers = login(officer)
    assert client.post(path, json={"outcome": "approve"}, headers=headers).status_code == 200
    other_process = engine.connect()
    grabbed = threading.Event()
    let_go = threading.Timer(0.3, lambda: (other_process.commit(), other_process.close()))

    def take_the_store(session: Session, *_: object) -> None:
        if not grabbed.is_set():  # the refusal's rollback: another process takes the store
            grabbed.set()
            other_process.begin()
            other_process.execute(select(Declaration.id).where(Declaration.id == filed["id"]))
            let_go.start()

    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    event.listen(factory, "after_rollback", take_the_store)
    try:
        again = client.post(
            path,
            json={"outcome": "reject", "reason": "late"},
            headers={**headers, "Idempotency-Key": "refused-once"},
        )
    finally:
        event.remove(factory, "after_rollback", take_the_store)
        let_go.join(timeout=10)
    assert grabbed.is_set()
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/inquiry-closed"
