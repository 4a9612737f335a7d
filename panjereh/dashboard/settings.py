"""The dashboard's own settings (prefix ``PANJEREH_DASHBOARD_``).

Kept apart from ``panjereh.config.Settings`` only until it is merged there; one typed object,
read once from the environment.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """What the dashboard reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_DASHBOARD_", extra="ignore")

    daily_cost_of_capital: Decimal = Field(
        default=Decimal("0.0005"),
        ge=0,
        le=1,
        description="What one US dollar of goods held for one day costs the economy, as a "
        "share of its value (0.0005 a day is about 20% a year).",
    )
    top_reasons: int = Field(default=10, ge=1, le=100)
    projector_batch: int = Field(default=1000, ge=1, le=1_000_000)


@lru_cache
def get_dashboard_settings() -> DashboardSettings:
    """The process's dashboard settings, read once from the environment."""
    return DashboardSettings()
