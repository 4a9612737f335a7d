"""The escalation ladder as a document: versioned per inquiry type, validated whole.

Default ladder (ENGINE.md): at risk (a share of the budget spent, or one business day before
the deadline, whichever comes first) → the agency's officers; deadline passed → the agency
head; N business days past → the national supervisor with the immediate report; then repeat
at an interval, with a cap.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Audience = Literal["agency_officers", "agency_head", "supervisor"]


class Step(BaseModel):
    """One rung: when it fires (relative to the deadline, in business days) and who hears."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    business_days_after_deadline: int = Field(ge=-30, le=60)
    budget_share: float | None = Field(default=None, gt=0, lt=1)
    notify: tuple[Audience, ...] = Field(min_length=1)
    immediate_report: bool = False


class Repeat(BaseModel):
    """After the last step, notify again every so many business days, at most so often."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every_business_days: int = Field(ge=1, le=30)
    max_times: int = Field(ge=0, le=50)
    notify: tuple[Audience, ...] = Field(min_length=1)


class EscalationPolicy(BaseModel):
    """A whole ladder. Steps must be in time order; only a step before the deadline may also
    fire on a share of the budget spent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: tuple[Step, ...] = Field(min_length=1, max_length=10)
    repeat: Repeat | None = None

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError("step names must be unique")
        if {"repeat", "manual"} & set(names):
            raise ValueError("'repeat' and 'manual' are reserved step names")
        offsets = [s.business_days_after_deadline for s in steps]
        if offsets != sorted(set(offsets)):
            raise ValueError(
                "steps must be in strictly increasing order of business_days_after_deadline"
            )
        for step in steps:
            if step.budget_share is not None and step.business_days_after_deadline >= 0:
                raise ValueError(
                    f"step {step.name}: budget_share is only for steps before the deadline"
                )
        return steps


DEFAULT_POLICY = EscalationPolicy(
    steps=(
        Step(
            name="at_risk",
            business_days_after_deadline=-1,
            budget_share=0.75,
            notify=("agency_officers",),
        ),
        Step(name="breached", business_days_after_deadline=0, notify=("agency_head",)),
        Step(
            name="supervisor",
            business_days_after_deadline=2,
            notify=("supervisor",),
            immediate_report=True,
        ),
    ),
    repeat=Repeat(every_business_days=2, max_times=5, notify=("agency_head", "supervisor")),
)
