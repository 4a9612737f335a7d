"""Property-based walk through the service layer: whatever traders and agencies do, in
whatever order, no declaration clears with an inquiry that is not approved, no inquiry is
decided twice, and the event chain stays intact."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from panjereh.audit.chain import verify
from panjereh.audit.models import Event
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.auth.service import create_user, principal_of
from panjereh.clock import ManualClock
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.declarations import flows as declaration_flows
from panjereh.declarations.models import Declaration, DeclarationStatus
from panjereh.declarations.schemas import DeclarationIn
from panjereh.errors import DomainError
from panjereh.inquiries import flows as inquiry_flows
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import DecisionIn, ReplyIn
from panjereh.inquiries.states import InquiryState, declaration_status
from tests.conftest import PASSWORD, START, declaration, item

GOODS = [
    item("851713"),  # CRA (+ MIMT, CBI)
    item("020130", description="Beef", origin_country="BR"),  # IVO
    item("080410", description="Dates", origin_country="AE"),  # PPO
    item("300490", description="Medicines", origin_country="IN"),  # IFDA-DRUG
    item(
        "841810", description="Fridges", origin_country="TR", currency="IRR", value="500000000"
    ),  # INSO, no CBI for rials
]
AGENCIES = ["CRA", "MIMT", "CBI", "IVO", "PPO", "IFDA", "INSO"]


@pytest.mark.usefixtures("sqlite_template")
class TestStateMachine:
    @pytest.fixture(autouse=True)
    def _template(self, sqlite_template: Path) -> None:
        type(self).template = sqlite_template

    def test_no_sequence_breaks_the_invariants(self, tmp_path: Path) -> None:
        # Users are created once (Argon2 is slow on purpose); each example copies the file.
        template = tmp_path / "walk-template.db"
        shutil.copy(type(self).template, template)
        engine = make_engine(f"sqlite:///{template}")
        with transaction(make_session_factory(engine)) as s:
            trader = principal_of(
                create_user(
                    session=s,
                    username="t",
                    password=PASSWORD,
                    role=Role.TRADER,
                    agency_code=None,
                    at=START,
                )
            )
            officers = {
                a: principal_of(
                    create_user(
                        session=s,
                        username=f"o-{a}",
                        password=PASSWORD,
                        role=Role.OFFICER,
                        agency_code=a,
                        at=START,
                    )
                )
                for a in AGENCIES
            }
        engine.dispose()

        class Walk(RuleBasedStateMachine):
            def __init__(self) -> None:
                super().__init__()
                self.dir = tempfile.mkdtemp()
                path = Path(self.dir) / "walk.db"
                shutil.copy(template, path)
                self.engine = make_engine(f"sqlite:///{path}")
                self.factory = make_session_factory(self.engine)
                self.clock = ManualClock(START)
                self.trader: Principal = trader
                self.officers: dict[str, Principal] = officers
                self.declarations: list[int] = []
                self.inquiries: list[tuple[int, str]] = []

            def teardown(self) -> None:
                self.engine.dispose()
                shutil.rmtree(self.dir, ignore_errors=True)

            def _tick(self) -> None:
                self.clock.advance(timedelta(minutes=7))

            @rule(goods=st.lists(st.sampled_from(GOODS), min_size=1, max_size=3))
            def file(self, goods: list[dict[str, str]]) -> None:
                self._tick()
                payload = DeclarationIn.model_validate(declaration(*goods))
                with transaction(self.factory) as s:
                    d = declaration_flows.file_declaration(
                        session=s, principal=self.trader, payload=payload, at=self.clock.now()
                    )
                    self.declarations.append(d.id)
                    self.inquiries += [(i.id, i.agency_code) for i in d.inquiries]

            @precondition(lambda self: self.inquiries)
            @rule(data=st.data(), outcome=st.sampled_from(["approve", "reject", "request_info"]))
            def decide(self, data: st.DataObject, outcome: str) -> None:
                self._tick()
                inquiry_id, agency = data.draw(st.sampled_from(self.inquiries))
                decision = DecisionIn(outcome=outcome, reason="because")  # type: ignore[arg-type]
                try:
                    with transaction(self.factory) as s:
                        inquiry_flows.decide(
                            session=s,
                            principal=self.officers[agency],
                            inquiry_id=inquiry_id,
                            decision=decision,
                            at=self.clock.now(),
                        )
                except DomainError as refused:
                    assert refused.status == 409

            @precondition(lambda self: self.inquiries)
            @rule(data=st.data())
            def reply(self, data: st.DataObject) -> None:
                self._tick()
                inquiry_id, _ = data.draw(st.sampled_from(self.inquiries))
                try:
                    with transaction(self.factory) as s:
                        inquiry_flows.reply(
                            session=s,
                            principal=self.trader,
                            inquiry_id=inquiry_id,
                            answer=ReplyIn(message="documents attached"),
                            at=self.clock.now(),
                        )
                except DomainError as refused:
                    assert refused.status == 409

            @precondition(lambda self: self.declarations)
            @rule(data=st.data())
            def cancel(self, data: st.DataObject) -> None:
                self._tick()
                declaration_id = data.draw(st.sampled_from(self.declarations))
                try:
                    with transaction(self.factory) as s:
                        declaration_flows.cancel_declaration(
                            session=s,
                            principal=self.trader,
                            declaration_id=declaration_id,
                            at=self.clock.now(),
                        )
                except DomainError as refused:
                    assert refused.status == 409

            @invariant()
            def status_follows_inquiries(self) -> None:
                with self.factory() as s:
                    for d in s.scalars(select(Declaration)):
                        states = [
                            InquiryState(i.state)
                            for i in s.scalars(
                                select(Inquiry).where(Inquiry.declaration_id == d.id)
                            )
                        ]
                        if d.status == DeclarationStatus.CLEARED:
                            assert all(x == InquiryState.APPROVED for x in states)
                        if d.status != DeclarationStatus.CANCELLED:
                            assert d.status == declaration_status(states, cancelled=False)

            @invariant()
            def nothing_decided_twice(self) -> None:
                with self.factory() as s:
                    finals = Counter(
                        s.scalars(
                            select(Event.inquiry_id).where(
                                Event.kind.in_(
                                    ["inquiry.approved", "inquiry.rejected", "inquiry.withdrawn"]
                                )
                            )
                        )
                    )
                    assert all(n == 1 for n in finals.values())
                    assert verify(s).ok

        run_state_machine_as_test(
            Walk,
            settings=settings(
                max_examples=20,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
