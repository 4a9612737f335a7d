"""The inquiry state machine and the fan-in rule that derives a declaration's status. Pure.

    awaiting_answer ──approve──> approved
          │  ├──────reject────> rejected
          │  └──request_info──> info_requested ──reply──> awaiting_answer
          │                           └──lapse (no reply in time)──> lapsed
          └──withdraw (declaration cancelled or refused)──> withdrawn

A decision is accepted only from ``awaiting_answer``: an inquiry waiting on the trader must get
the trader's reply first, and a closed inquiry is never decided again.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from panjereh.declarations.models import DeclarationStatus


class InquiryState(StrEnum):
    """Where one inquiry stands."""

    AWAITING_ANSWER = "awaiting_answer"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


OPEN_STATES = frozenset({InquiryState.AWAITING_ANSWER, InquiryState.INFO_REQUESTED})


class Action(StrEnum):
    """What can happen to an inquiry."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    REPLY = "reply"
    LAPSE = "lapse"
    WITHDRAW = "withdraw"


TRANSITIONS: dict[tuple[InquiryState, Action], InquiryState] = {
    (InquiryState.AWAITING_ANSWER, Action.APPROVE): InquiryState.APPROVED,
    (InquiryState.AWAITING_ANSWER, Action.REJECT): InquiryState.REJECTED,
    (InquiryState.AWAITING_ANSWER, Action.REQUEST_INFO): InquiryState.INFO_REQUESTED,
    (InquiryState.INFO_REQUESTED, Action.REPLY): InquiryState.AWAITING_ANSWER,
    (InquiryState.INFO_REQUESTED, Action.LAPSE): InquiryState.LAPSED,
    (InquiryState.AWAITING_ANSWER, Action.WITHDRAW): InquiryState.WITHDRAWN,
    (InquiryState.INFO_REQUESTED, Action.WITHDRAW): InquiryState.WITHDRAWN,
}


class TransitionRefused(Exception):
    """The action is not allowed from the inquiry's current state."""

    def __init__(self, state: InquiryState, action: Action) -> None:
        super().__init__(f"cannot {action.value} an inquiry that is {state.value}")
        self.state, self.action = state, action


def next_state(state: InquiryState, action: Action) -> InquiryState:
    """The state after ``action``, or :class:`TransitionRefused`."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionRefused(state, action) from None


def declaration_status(states: Iterable[InquiryState], *, cancelled: bool) -> DeclarationStatus:
    """A declaration's status from its inquiries' states (the fan-in rule).

    Cancelled wins; then any rejection (or a request the trader let lapse) refuses the
    goods; then any open request for
    information waits on the trader; the goods clear when every inquiry is approved (a
    declaration that needs no inquiry clears at once); otherwise it is under inquiry.
    """
    if cancelled:
        return DeclarationStatus.CANCELLED
    seen = set(states)
    if InquiryState.REJECTED in seen or InquiryState.LAPSED in seen:
        return DeclarationStatus.REFUSED
    if InquiryState.INFO_REQUESTED in seen:
        return DeclarationStatus.AWAITING_TRADER
    if seen <= {InquiryState.APPROVED}:
        return DeclarationStatus.CLEARED
    return DeclarationStatus.UNDER_INQUIRY
