"""The ``panjereh`` command line."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

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
agency_app = typer.Typer(
    help="Agencies' own systems: connections and credentials.", no_args_is_help=True
)
credentials_app = typer.Typer(
    help="Machine credentials of agencies' systems.", no_args_is_help=True
)
agency_app.add_typer(credentials_app, name="credentials")
calendar_app.add_typer(closures_app, name="closures")
calendar_app.add_typer(corrections_app, name="corrections")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(rules_app, name="rules")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(agency_app, name="agency")


# The roles a person can be given (every role but an agency's system: PERSON_ROLES).
PersonRole = Literal["trader", "officer", "agency_head", "supervisor", "admin"]


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


Username = Annotated[str, typer.Option(help="sign-in name")]
NewPassword = Annotated[
    str,
    typer.Option(
        help="at least 10 characters; asked for (hidden, twice) when not given",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
    ),
]


@users_app.command("create")
def users_create(
    username: Username,
    password: NewPassword,
    role: Annotated[PersonRole, typer.Option(help="what the user may do")],
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
                role=Role(role),
                agency_code=agency,
                at=SystemClock().now(),
                full_name=full_name,
                email=email,
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"created user {user.username} (id {user.id}, {user.role})")


@users_app.command("set-password")
def users_set_password(
    username: Username,
    password: NewPassword,
) -> None:
    """Set a person's password (a reset: the current one is not asked for); a sign-in lock on
    the username is lifted. Their web sessions end at their next request."""
    from panjereh.auth.service import reset_password

    try:
        with transaction(make_session_factory(_engine())) as session:
            user = reset_password(
                session=session, username=username, password=password, at=SystemClock().now()
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"password set for {user.username} (id {user.id}, {user.role})")


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
    default) in bulk, building the dashboard's aggregates as it writes."""
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
    Multiprocess(config, sockets=[_WorkerListener.reserve(host, port)]).run()


class _WorkerListener(socket.socket):
    """The listening socket of ``serve --workers N``: each worker opens one of its own.

    With one listening socket shared by the workers, whichever worker accepts first takes
    every connection waiting (often all of a client's kept-alive connections go to one worker
    while the others idle). Each worker's own socket on the same port (``SO_REUSEPORT``)
    lets the kernel spread new connections over the workers evenly. uvicorn hands its workers
    the supervisor's sockets by pickling them; this one unpickles as a new socket on the same
    address, while the supervisor's stays bound, never listening, to hold the port. Each is a
    TCP socket (``IPPROTO_TCP``): with uvicorn's own listener (protocol 0) asyncio leaves
    ``TCP_NODELAY`` off on accepted sockets, and on Linux every keep-alive request after the
    first waits ~40 ms for a delayed ACK.
    """

    @classmethod
    def reserve(cls, host: str, port: int) -> _WorkerListener:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        return listener

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return _WorkerListener.reserve, (host, port)


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


@agency_app.command("connect")
def agency_connect(
    agency: Annotated[str, typer.Argument(help="the agency's code, e.g. IVO")],
    mode: Annotated[str, typer.Option(help="push (to --url) or pull (it fetches its inbox)")],
    url: Annotated[str | None, typer.Option(help="push only: the agency's endpoint")] = None,
) -> None:
    """Connect an agency's system, or change how it is reached (prints the signing secret
    the first time only)."""
    from panjereh.exchange import service
    from panjereh.exchange.models import Mode

    if mode not in {m.value for m in Mode}:
        raise _fail("--mode must be push or pull")
    try:
        with transaction(make_session_factory(_engine())) as session:
            connection, secret = service.connect(
                session=session,
                principal=SYSTEM,
                agency_code=agency,
                mode=Mode(mode),
                endpoint_url=url,
                at=SystemClock().now(),
            )
            typer.echo(
                f"{connection.agency_code}: {connection.mode} {connection.endpoint_url or ''}"
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    if secret:
        typer.echo(f"signing secret (shown only now): {secret}")


@agency_app.command("rotate-secret")
def agency_rotate_secret(
    agency: str,
    overlap_hours: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=24 * 30,
            help="how long the old secret keeps working "
            "(default: PANJEREH_SECRET_OVERLAP_HOURS; 0: it stops at once)",
        ),
    ] = None,
) -> None:
    """Give an agency's connection a new signing secret; the old one keeps working for a while
    (accepted on decisions, and pushes are signed with both) so its system can switch."""
    from panjereh.exchange import service

    hours = get_settings().secret_overlap_hours if overlap_hours is None else overlap_hours
    now = SystemClock().now()
    try:
        with transaction(make_session_factory(_engine())) as session:
            rotated = service.rotate_secret(
                session=session,
                principal=SYSTEM,
                agency_code=agency,
                at=now,
                overlap=timedelta(hours=hours),
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"new signing secret (shown only now): {rotated.secret}")
    if rotated.old_valid_until is not None:
        typer.echo(f"the old secret keeps working until {rotated.old_valid_until.isoformat()}")
    else:
        typer.echo("the old secret no longer works")


@agency_app.command("health")
def agency_health() -> None:
    """Delivery health of every connected agency's system."""
    from panjereh.exchange import service

    with transaction(make_session_factory(_engine())) as session:
        rows = service.health(session=session, principal=SYSTEM)
    for h in rows:
        typer.echo(
            f"{h.agency_code:8} {h.mode:5} messages {h.messages} delivered {h.delivered} "
            f"waiting {h.waiting} dead {h.dead} attempts {h.attempts} "
            f"p50 {h.latency_p50_ms} ms p99 {h.latency_p99_ms} ms"
            + (f" last error: {h.last_error}" if h.last_error else "")
        )


@agency_app.command("demo-connect")
def agency_demo_connect(
    directory: Annotated[
        Path, typer.Option(help="where to write each simulator's settings")
    ] = Path("var/agency-sims"),
    api_url: Annotated[str, typer.Option(help="where the simulators reach Panjereh")] = (
        "http://127.0.0.1:8000"
    ),
    push_port: Annotated[int, typer.Option(help="where the pushed-to simulator listens")] = 8101,
) -> None:
    """Connect a few agencies to simulated systems for the demo (IVO by push, INSO and IFDA
    by pull), each with a credential; writes the settings ``panjereh agency-sim --config``
    reads. Run again, it replaces the credentials and keeps the connections."""
    from panjereh.exchange import credentials, service
    from panjereh.exchange.models import Mode

    plan = [("IVO", Mode.PUSH, push_port), ("INSO", Mode.PULL, None), ("IFDA", Mode.PULL, None)]
    directory.mkdir(parents=True, exist_ok=True)
    now = SystemClock().now()
    files: dict[str, dict[str, object]] = {}
    with transaction(make_session_factory(_engine())) as session:
        for code, mode, port in plan:
            url = f"http://127.0.0.1:{port}/" if port else None
            _, secret = service.connect(
                session=session,
                principal=SYSTEM,
                agency_code=code,
                mode=mode,
                endpoint_url=url,
                at=now,
            )
            if secret is None:
                secret = service.rotate_secret(
                    session=session, principal=SYSTEM, agency_code=code, at=now
                ).secret
            for old in credentials.listing(session=session, principal=SYSTEM, agency_code=code):
                credentials.revoke(session=session, principal=SYSTEM, key_id=old.key_id, at=now)
            _, key = credentials.create(
                session=session, principal=SYSTEM, agency_code=code, label="demo simulator", at=now
            )
            files[code] = {
                "agency": code,
                "api_url": api_url,
                "key": key,
                "signing_secret": secret,
                "mode": mode.value,
                "port": port or 0,
            }
    # Written once the keys exist (after the commit), readable by their owner only.
    for code, settings in files.items():
        path = directory / f"{code}.json"
        path.unlink(missing_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            json.dump(settings, out, indent=2)
        typer.echo(f"{code}: {settings['mode']}; simulator settings in {path}")


@credentials_app.command("create")
def credentials_create(
    agency: str,
    label: Annotated[str, typer.Option(help="what the key is for")] = "",
) -> None:
    """Create a machine credential for an agency's system (the key is printed only now)."""
    from panjereh.exchange import credentials

    try:
        with transaction(make_session_factory(_engine())) as session:
            credential, key = credentials.create(
                session=session,
                principal=SYSTEM,
                agency_code=agency,
                label=label,
                at=SystemClock().now(),
            )
            typer.echo(f"credential {credential.key_id} for {agency}")
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"key (shown only now): {key}")


@credentials_app.command("list")
def credentials_list(agency: Annotated[str | None, typer.Argument()] = None) -> None:
    """Machine credentials (never their secrets)."""
    from panjereh.exchange import credentials

    with transaction(make_session_factory(_engine())) as session:
        for c in credentials.listing(session=session, principal=SYSTEM, agency_code=agency):
            state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
            typer.echo(f"{c.key_id}  {c.agency_code:8} {state:24} {c.label}")


@credentials_app.command("revoke")
def credentials_revoke(key_id: str) -> None:
    """Revoke a machine credential: its next request is refused."""
    from panjereh.exchange import credentials

    try:
        with transaction(make_session_factory(_engine())) as session:
            credentials.revoke(
                session=session, principal=SYSTEM, key_id=key_id, at=SystemClock().now()
            )
    except DomainError as error:
        raise _fail(f"refused: {error.detail}") from None
    typer.echo(f"credential {key_id} revoked")


@app.command("agency-sim")
def agency_sim(
    config: Annotated[Path | None, typer.Option(help="settings file (from demo-connect)")] = None,
    agency: Annotated[str | None, typer.Option(help="the agency's code")] = None,
    key: Annotated[str | None, typer.Option(help="its machine key (pjk_...)")] = None,
    secret: Annotated[str | None, typer.Option(help="its signing secret")] = None,
    mode: Annotated[
        Literal["push", "pull"], typer.Option(help="push (on --port) or pull")
    ] = "push",
    api_url: Annotated[str, typer.Option(help="Panjereh's address")] = "http://127.0.0.1:8000",
    port: Annotated[int, typer.Option(help="push: where to listen on 127.0.0.1")] = 8101,
    delay_min: Annotated[float, typer.Option(help="fastest answer, seconds")] = 2.0,
    delay_max: Annotated[float, typer.Option(help="slowest answer, seconds")] = 30.0,
    approve: Annotated[float, typer.Option(help="share of approvals")] = 0.8,
    reject: Annotated[float, typer.Option(help="share of rejections")] = 0.05,
    request_info: Annotated[float, typer.Option(help="share of requests for information")] = 0.15,
) -> None:
    """Run a simulated agency system that takes inquiries (push or pull) and answers them.

    With --config, the file gives the connection (agency, key, secret, mode, port, api_url);
    the delays and the mix of answers come from the options either way."""
    import logging
    import signal

    from panjereh.exchange.sim import AgencySim, SimSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if config is not None:
        settings = SimSettings.from_file(config)
        settings.delay_min, settings.delay_max = delay_min, delay_max
        settings.approve, settings.reject, settings.request_info = approve, reject, request_info
    elif agency and key and secret:
        settings = SimSettings(
            agency=agency,
            api_url=api_url,
            key=key,
            signing_secret=secret,
            mode=mode,
            port=port,
            delay_min=delay_min,
            delay_max=delay_max,
            approve=approve,
            reject=reject,
            request_info=request_info,
        )
    else:
        raise _fail("give --config, or --agency, --key and --secret")
    if settings.delay_min > settings.delay_max or min(approve, reject, request_info) < 0:
        raise _fail("delays must satisfy min <= max and shares must not be negative")
    sim = AgencySim(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sim.stop.set())
    sim.run()
