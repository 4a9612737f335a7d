"""The ``panjereh`` command line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import Engine

from panjereh.auth.models import Role
from panjereh.auth.principal import SYSTEM
from panjereh.clock import SystemClock
from panjereh.config import get_settings
from panjereh.db import make_engine, make_session_factory, transaction
from panjereh.errors import DomainError, field_path

app = typer.Typer(help="Panjereh: the national trade single window.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
rules_app = typer.Typer(help="Versioned rule sets.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained event log.", no_args_is_help=True)
calendar_app = typer.Typer(help="Business calendars.", no_args_is_help=True)
closures_app = typer.Typer(help="Office closures (national or by province).", no_args_is_help=True)
corrections_app = typer.Typer(help="Corrections of lunar holidays.", no_args_is_help=True)
dashboard_app = typer.Typer(help="The national dashboard.", no_args_is_help=True)
calendar_app.add_typer(closures_app, name="closures")
calendar_app.add_typer(corrections_app, name="corrections")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(rules_app, name="rules")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(dashboard_app, name="dashboard")


def _engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the schema to REVISION and load the reference data (agencies, default rules)."""
    from panjereh import migrate

    engine = _engine()
    migrate.upgrade(engine, revision)
    migrate.seed(engine, clock=SystemClock())
    typer.echo(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="sign-in name")],
    password: Annotated[
        str,
        typer.Option(
            help="at least 10 characters", prompt=True, hide_input=True, confirmation_prompt=True
        ),
    ],
    role: Annotated[Role, typer.Option(help="what the user may do")],
    agency: Annotated[str | None, typer.Option(help="agency code (officer, agency_head)")] = None,
    full_name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str | None, typer.Option(help="where escalation emails go")] = None,
) -> None:
    """Create a user with a role (and an agency for officers and agency heads)."""
    from panjereh.auth.service import create_user

    try:
        with transaction(make_session_factory(_engine())) as session:
            user = create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                agency_code=agency,
                at=SystemClock().now(),
                full_name=full_name,
                email=email,
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"created user {user.username} (id {user.id}, {user.role})")


@rules_app.command("load")
def rules_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    activate: Annotated[bool, typer.Option(help="make it the active rule set")] = True,
) -> None:
    """Load a rule-set document (JSON) as a new version; existing inquiries are unaffected."""
    from panjereh.rules import service
    from panjereh.rules.document import RuleSetDocument

    try:
        document = RuleSetDocument.model_validate_json(file.read_bytes())
    except ValidationError as error:
        lines = [f"  {field_path(e['loc'])}: {e['msg']}" for e in error.errors()]
        raise _fail("the rule set is not valid:\n" + "\n".join(lines)) from None
    with transaction(make_session_factory(_engine())) as session:
        record = service.load(
            session=session,
            document=document,
            loaded_by=SYSTEM.username,
            at=SystemClock().now(),
            activate=activate,
        )
    state = "active" if activate else "stored, not active"
    typer.echo(f"rule set v{record.version} ({len(document.rules)} rules) {state}")


@rules_app.command("list")
def rules_list() -> None:
    """Show every stored rule-set version."""
    from panjereh.rules import service

    with transaction(make_session_factory(_engine())) as session:
        for record in service.list_versions(session=session):
            mark = "*" if record.is_active else " "
            typer.echo(
                f"{mark} v{record.version}  {record.loaded_at:%Y-%m-%d %H:%M}Z  "
                f"{record.checksum[:12]}  {record.name}"
            )


@rules_app.command("activate")
def rules_activate(version: int) -> None:
    """Make a stored VERSION the rule set for new filings."""
    from panjereh.rules import service

    try:
        with transaction(make_session_factory(_engine())) as session:
            service.activate_version(session=session, version=version, at=SystemClock().now())
    except DomainError as error:
        raise _fail(error.detail) from None
    typer.echo(f"rule set v{version} is active")


@rules_app.command("export-default")
def rules_export_default() -> None:
    """Print the default rule set shipped with Panjereh (a starting point for your own)."""
    from panjereh.rules import service

    typer.echo(json.dumps(service.default_document(), ensure_ascii=False, indent=1))


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the event chain; report the first broken link, exit 1 if there is one."""
    from panjereh.audit.chain import verify

    with transaction(make_session_factory(_engine())) as session:
        report = verify(session)
    if report.ok:
        typer.echo(f"audit chain intact: {report.checked} events verified")
        return
    raise _fail(
        f"audit chain broken at event {report.broken_at}: {report.reason} "
        f"({report.checked} events verified before it)"
    )


@app.command("demo-data")
def demo_data(
    declarations: Annotated[int, typer.Option(help="how many declarations")] = 3000,
    days: Annotated[int, typer.Option(help="over how many past days")] = 90,
    seed: Annotated[int, typer.Option(help="random seed")] = 1405,
    scale: Annotated[
        str, typer.Option(help="'demo': a quarter through the flows; 'national': years in bulk")
    ] = "demo",
    inquiries: Annotated[int, typer.Option(help="with --scale national: how many")] = 10_000_000,
) -> None:
    """Load realistic demo history: real agencies and HS codes, traders in several provinces,
    answers with realistic delays (some agencies slow, some late). Prints the demo accounts.
    ``--scale national`` writes a national history (10 million inquiries over two years by
    default) in bulk for the dashboard, then builds its aggregates."""
    if scale == "national":
        from panjereh.dashboard.national import generate

        national = generate(_engine(), inquiries=inquiries, seed=seed, progress=typer.echo)
        typer.echo("\n".join(national.lines()))
        return
    if scale != "demo":
        raise _fail("--scale is 'demo' or 'national'")
    from panjereh.demo.history import DemoRefused, load_demo

    try:
        typer.echo(load_demo(_engine(), declarations=declarations, days=days, seed=seed))
    except DemoRefused as refused:
        raise _fail(str(refused)) from None


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
) -> None:
    """Serve the API and the web pages (uvicorn; uvloop and httptools when installed)."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "panjereh.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        access_log=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    # uvicorn's own multi-process listener is created with proto 0; asyncio then leaves
    # TCP_NODELAY off on accepted sockets, and on Linux every keep-alive request after the
    # first waits ~40 ms for a delayed ACK. Creating the listener as a TCP socket avoids it.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()


@closures_app.command("add")
def closures_add(
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="first closed day")],
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="last closed day")],
    reason: Annotated[str, typer.Option(help="why offices are closed")],
    province: Annotated[str | None, typer.Option(help="ISO 3166-2:IR code; omit: national")] = None,
) -> None:
    """Close offices for whole days; open deadlines the closure affects move (and say so)."""
    from panjereh.calendars import flows

    try:
        with transaction(make_session_factory(_engine())) as session:
            record, moved = flows.add_closure(
                session=session,
                principal=SYSTEM,
                start=start.date(),
                end=end.date(),
                province=province,
                reason=reason,
                at=SystemClock().now(),
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    where = record.province or "nationwide"
    typer.echo(
        f"closure {record.id} ({record.start} to {record.end}, {where}) added; "
        f"{moved} open deadlines moved"
    )


@closures_app.command("list")
def closures_list() -> None:
    """Show every closure."""
    from panjereh.calendars import service

    with transaction(make_session_factory(_engine())) as session:
        for c in service.closures(session=session):
            typer.echo(f"{c.id:>4}  {c.start} to {c.end}  {c.province or 'national':8}  {c.reason}")


@corrections_app.command("add")
def corrections_add(
    moved_from: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="the day the package estimated")
    ],
    reason: Annotated[str, typer.Option(help="the announcement that moved it")],
    moved_to: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="the real day (omit: none)")
    ] = None,
) -> None:
    """Correct a lunar holiday that fell on another day than the holidays package estimated."""
    from panjereh.calendars import flows

    try:
        with transaction(make_session_factory(_engine())) as session:
            _, moved = flows.add_correction(
                session=session,
                principal=SYSTEM,
                moved_from=moved_from.date(),
                moved_to=moved_to.date() if moved_to else None,
                reason=reason,
                at=SystemClock().now(),
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"holiday correction added; {moved} open deadlines moved")


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option(help="do one pass and exit")] = False,
) -> None:
    """Run the clock sweep and deliver notifications until stopped (SIGTERM or Ctrl-C)."""
    import logging
    import signal
    import threading

    from panjereh.notifications.channels import channels
    from panjereh.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    factory = make_session_factory(_engine())
    loop = Worker(factory, SystemClock(), settings, channels(factory, settings))
    if once:
        typer.echo(f"did {loop.run_once()} things")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    loop.run(stop)


@dashboard_app.command("rebuild")
def dashboard_rebuild() -> None:
    """Empty the dashboard's aggregates and replay the whole event log into them."""
    from panjereh.dashboard.projector import rebuild

    events = rebuild(make_session_factory(_engine()))
    typer.echo(f"dashboard rebuilt from {events} events")


@dashboard_app.command("ocel")
def dashboard_ocel(
    file: Annotated[Path, typer.Argument(dir_okay=False, writable=True, help="where to write")],
) -> None:
    """Export the event log as OCEL 2.0 JSON, for process-mining tools."""
    from panjereh.dashboard import ocel

    with transaction(make_session_factory(_engine())) as session, file.open("w") as out:
        written = ocel.write(session, out)
    typer.echo(f"wrote {written} characters of OCEL 2.0 to {file}")
