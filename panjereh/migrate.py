"""Schema migrations (Alembic) and the reference data every store needs."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select

from panjereh.agencies.service import seed_reference_agencies
from panjereh.auth.principal import SYSTEM
from panjereh.clock import Clock
from panjereh.db import make_session_factory, transaction
from panjereh.rules import service as rules
from panjereh.rules.document import RuleSetDocument
from panjereh.rules.models import RuleSetRecord


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("panjereh") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def seed(engine: Engine, *, clock: Clock) -> None:
    """Load the reference agencies, and the default rule set if no rule set exists yet."""
    with transaction(make_session_factory(engine)) as session:
        seed_reference_agencies(session=session)
        if session.scalar(select(RuleSetRecord.version).limit(1)) is None:
            rules.load(
                session=session,
                document=RuleSetDocument.model_validate(rules.default_document()),
                loaded_by=SYSTEM.username,
                at=clock.now(),
                activate=True,
            )
