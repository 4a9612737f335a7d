"""Alembic environment: runs migrations on the connection ``panjereh.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from panjereh.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `panjereh db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # A migration waits at most a few seconds for a lock rather than queueing behind a
        # long transaction and blocking every request that queues behind it in turn.
        connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        connection.exec_driver_sql("SET LOCAL statement_timeout = '10min'")
    context.run_migrations()
