"""The inquiry state machine and the fan-in rule, as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.declarations.models import DeclarationStatus
from panjereh.inquiries.states import (
    OPEN_STATES,
    TRANSITIONS,
    Action,
    InquiryState,
    TransitionRefused,
    declaration_status,
    next_state,
)

states = st.lists(st.sampled_from(InquiryState), max_size=20)


@given(states)
def test_cleared_only_when_every_inquiry_is_approved(inquiries: list[InquiryState]) -> None:
    status = declaration_status(inquiries, cancelled=False)
    assert (status == DeclarationStatus.CLEARED) == all(
        s == InquiryState.APPROVED for s in inquiries
    )


@given(states)
def test_any_rejection_or_lapse_refuses(inquiries: list[InquiryState]) -> None:
    status = declaration_status(inquiries, cancelled=False)
    refusing = {InquiryState.REJECTED, InquiryState.LAPSED}
    assert (status == DeclarationStatus.REFUSED) == bool(refusing & set(inquiries))


@given(states)
def test_cancelled_wins(inquiries: list[InquiryState]) -> None:
    assert declaration_status(inquiries, cancelled=True) == DeclarationStatus.CANCELLED


@given(st.sampled_from(InquiryState), st.sampled_from(Action))
def test_closed_inquiries_accept_nothing(state: InquiryState, action: Action) -> None:
    if state in OPEN_STATES:
        return
    with pytest.raises(TransitionRefused):
        next_state(state, action)


def test_decisions_only_from_awaiting_answer() -> None:
    deciding = {Action.APPROVE, Action.REJECT, Action.REQUEST_INFO}
    sources = {state for (state, action) in TRANSITIONS if action in deciding}
    assert sources == {InquiryState.AWAITING_ANSWER}
    assert next_state(InquiryState.INFO_REQUESTED, Action.REPLY) == InquiryState.AWAITING_ANSWER
