"""Benchmark: the national dashboard at national scale, beside DuckDB on the same data.

One run, on one machine:

1. ``panjereh.dashboard.national.generate`` writes a national history (10 million inquiries
   over two years; ``--quick``: 50,000) into a scratch store (PostgreSQL where reachable, else
   SQLite), with the real hash chain, then the projector builds the dashboard from the events.
   Then (not timed) one CSV row per inquiry with its figures as of now is written from the
   store's ``inquiries`` rows (the raw rows: agency, state, on time or not, agency and elapsed
   minutes, paused minutes; ``national.write_facts``).
2. DuckDB loads those rows and computes the national per-agency table (received, answered,
   on time, information requests, paused share, exact p50 and p90 of agency and elapsed
   time, open now) over the full history, timed over several runs.
3. A separate process (the server, measured for its peak memory) serves the dashboard's
   figures from the store: the same per-agency table over the full history, 30-day views
   (league, province, inquiry type, HS chapter, clearance, reasons, daily trend) and the whole
   dashboard page rendered server-side for a supervisor, each timed over several runs.
4. The per-agency table is checked against DuckDB's: counts and rates exact, p50 and p90
   within one histogram bin.

Targets (issue 6): full-history table in at most 0.1× DuckDB's time, any 30-day view under
20 ms, the whole page under 150 ms, the server's peak memory under 500 MB.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from queue import Empty
from typing import Any

from bench.common import (
    Options,
    Result,
    engine_for,
    postgres_database,
    postgres_problem,
    prepare,
    sqlite_url,
)

TITLE = "The national dashboard: 10 million inquiries over two years, beside DuckDB"
NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
FULL_INQUIRIES = 10_000_000
QUICK_INQUIRIES = 50_000
TARGET_RATIO = 0.1
TARGET_VIEW_MS = 20.0
TARGET_PAGE_MS = 150.0
TARGET_MEMORY_MB = 500.0
TARGET_GENERATOR_MIN = 15.0
"""Our reading of the issue's "in minutes" for ten million inquiries (the quick run's figure
says nothing about it)."""

DUCKDB_TABLE = """
SELECT agency,
       count(*) AS received,
       sum(answered) AS answered,
       sum(CASE WHEN state = 'approved' THEN 1 ELSE 0 END) AS approved,
       sum(CASE WHEN state = 'rejected' THEN 1 ELSE 0 END) AS rejected,
       sum(on_time) AS on_time,
       sum(info_requests) AS info_requests,
       sum(paused_minutes) AS paused_minutes,
       sum(elapsed_minutes) AS elapsed_minutes,
       quantile_disc(agency_minutes, 0.5) AS agency_p50,
       quantile_disc(agency_minutes, 0.9) AS agency_p90,
       quantile_disc(elapsed_minutes, 0.5) AS elapsed_p50,
       quantile_disc(elapsed_minutes, 0.9) AS elapsed_p90,
       sum(CASE WHEN state IN ('awaiting_answer', 'info_requested') THEN 1 ELSE 0 END)
           AS open_now
FROM facts
GROUP BY agency
ORDER BY agency
"""


def _timed(step: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best milliseconds of ``repeat`` runs after one warm-up."""
    step()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def duckdb_table(facts: Path, repeat: int) -> dict[str, Any]:
    """DuckDB's per-agency table from the raw rows, and its time."""
    import duckdb

    connection = duckdb.connect()
    started = time.perf_counter()
    connection.execute(
        "CREATE TABLE facts AS SELECT * FROM read_csv(?, header = true, "
        "types = {'agency_minutes': 'BIGINT', 'elapsed_minutes': 'BIGINT', "
        "'paused_minutes': 'BIGINT'})",
        [str(facts)],
    )
    load_seconds = time.perf_counter() - started
    rows = connection.execute(DUCKDB_TABLE).fetchall()
    names = [d[0] for d in connection.description]
    median, best = _timed(lambda: connection.execute(DUCKDB_TABLE).fetchall(), repeat)
    count = connection.execute("SELECT count(*) FROM facts").fetchone()
    connection.close()
    return {
        "rows": {r[0]: dict(zip(names, r, strict=True)) for r in rows},
        "median_ms": median,
        "best_ms": best,
        "load_s": load_seconds,
        "facts": int(count[0]) if count else 0,
    }


def _serve(url: str, repeat: int, queue: Any) -> None:
    """In a process of its own (the server): time every view and the page; report the
    timings, the full-history table and this process's peak memory."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from panjereh.auth.models import Role, User
    from panjereh.auth.service import create_user
    from panjereh.clock import ManualClock
    from panjereh.config import Settings
    from panjereh.dashboard import periods, queries
    from panjereh.db import make_session_factory, transaction
    from panjereh.main import create_app

    settings = Settings(env="test", database_url=url)
    app = create_app(settings, clock=ManualClock(NOW))
    factory = make_session_factory(app.state.engine)
    with transaction(factory) as session:
        if session.scalar(select(User.id).where(User.username == "bench-supervisor")) is None:
            create_user(
                session=session,
                username="bench-supervisor",
                password="bench-password-not-secret",
                role=Role.SUPERVISOR,
                agency_code=None,
                at=NOW,
            )
    today = periods.tehran_day(NOW)
    rate = Decimal("0.0005")
    everything = periods.Period(1, today, all_time=True)
    month = periods.last_days(today, 30)
    figures: dict[str, Any] = {}
    with factory() as session:
        views: dict[str, Callable[[], object]] = {
            "league_all_time": lambda: queries.league(
                session, period=everything, now=NOW, cost_rate=rate
            ),
            "league_30_days": lambda: queries.league(
                session, period=month, now=NOW, cost_rate=rate
            ),
            "provinces_30_days": lambda: queries.breakdown(
                session, dimension="province", period=month, now=NOW, cost_rate=rate
            ),
            "inquiry_types_30_days": lambda: queries.breakdown(
                session, dimension="type", period=month, now=NOW, cost_rate=rate
            ),
            "hs_chapters_30_days": lambda: queries.breakdown(
                session, dimension="chapter", period=month, now=NOW, cost_rate=rate
            ),
            "one_agency_provinces_30_days": lambda: queries.breakdown(
                session,
                dimension="province",
                period=month,
                now=NOW,
                cost_rate=rate,
                agency="INSO",
            ),
            "clearance_30_days": lambda: queries.clearance(session, period=month),
            "reasons_30_days": lambda: queries.reasons(session, period=month),
            "daily_trend_30_days": lambda: queries.trend(
                session, grain="d", first=today - 29, last=today, cost_rate=rate
            ),
            "overdue_drill_down": lambda: queries.overdue_list(
                session, agency="INSO", now=NOW, limit=100
            ),
            "freshness": lambda: queries.freshness(session, now=NOW),
        }
        for name, step in views.items():
            median, best = _timed(step, repeat)
            figures[f"{name}_ms"] = round(median, 2)
            figures[f"{name}_best_ms"] = round(best, 2)
        table = queries.league(session, period=everything, now=NOW, cost_rate=rate)
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/sign-in").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/sign-in",
            data={
                "username": "bench-supervisor",
                "password": "bench-password-not-secret",
                "csrf_token": token,
            },
        )
        if signed.status_code != 303:
            raise RuntimeError("the bench supervisor could not sign in")

        def render() -> None:
            response = client.get("/dashboard")
            if response.status_code != 200 or "league" not in response.text:
                raise RuntimeError(f"the dashboard page answered {response.status_code}")

        median, best = _timed(render, repeat)
        figures["page_ms"] = round(median, 2)
        figures["page_best_ms"] = round(best, 2)
        figures["page_bytes"] = len(client.get("/dashboard").content)
    app.state.engine.dispose()
    figures["server_peak_mb"] = round(_peak_kib() / 1024, 1)
    queue.put((figures, table))


def _peak_kib() -> int:
    """This process's peak resident memory (KiB) since it started its own program.

    ``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would also count
    what the parent held when it forked this process (Linux keeps it across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _in_server_process(url: str, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_serve, args=(url, repeat, queue))
    process.start()
    while True:
        try:
            result: tuple[dict[str, Any], dict[str, Any]] = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                raise RuntimeError(f"the server process failed ({process.exitcode})") from None
    process.join()
    return result


def _within_one_bin(reported: dict[str, Any] | None, exact: int | None) -> bool:
    from panjereh.dashboard import histogram

    if reported is None or exact is None:
        return reported is None and exact is None
    low = histogram.BOUNDS[max(0, histogram.bin_of(reported["low"]) - 1)]
    index = histogram.bin_of(reported["low"]) + 2
    high = histogram.BOUNDS[index] if index < histogram.BINS else None
    return low <= exact and (high is None or exact < high)


def compare(table: dict[str, Any], duck: dict[str, Any]) -> list[str]:
    """Differences between the dashboard's per-agency table and DuckDB's (none expected)."""
    problems = []
    rows = {r["agency"]: r for r in table["agencies"]}
    for agency, exact in duck["rows"].items():
        row = rows.get(agency)
        if row is None:
            problems.append(f"{agency}: missing from the dashboard")
            continue
        for name in ("received", "answered", "approved", "rejected", "on_time", "info_requests"):
            if int(row[name]) != int(exact[name] or 0):
                problems.append(f"{agency} {name}: {row[name]} != {exact[name]}")
        if row["open_now"] != int(exact["open_now"] or 0):
            problems.append(f"{agency} open_now: {row['open_now']} != {exact['open_now']}")
        answered = int(exact["answered"] or 0)
        if answered:
            rate = (Decimal(int(exact["on_time"])) / answered).quantize(Decimal("0.0001"))
            if row["on_time_rate"] is None or abs(row["on_time_rate"] - rate) > Decimal("0.0001"):
                problems.append(f"{agency} on_time_rate: {row['on_time_rate']} != {rate}")
        for measure, key in (("agency_minutes", "agency"), ("elapsed_minutes", "elapsed")):
            for p in ("p50", "p90"):
                if not _within_one_bin(row[measure][p], exact[f"{key}_{p}"]):
                    problems.append(
                        f"{agency} {measure} {p}: {row[measure][p]} vs exact {exact[f'{key}_{p}']}"
                    )
    return problems


def measure(url: str, facts: Path, *, repeat: int) -> dict[str, Any]:
    """Every figure of the benchmark on a store that already holds the national history."""
    duck = duckdb_table(facts, repeat)
    served, table = _in_server_process(url, repeat)
    problems = compare(table, duck)
    views = {k: v for k, v in served.items() if k.endswith("_ms") and "best" not in k}
    thirty = {k: v for k, v in views.items() if "30_days" in k}
    return {
        "duckdb_table_ms": round(duck["median_ms"], 2),
        "duckdb_load_s": round(duck["load_s"], 1),
        "facts_rows": duck["facts"],
        **served,
        "ratio_to_duckdb": round(served["league_all_time_ms"] / duck["median_ms"], 4),
        "slowest_30_day_view": max(thirty, key=lambda k: thirty[k]),
        "slowest_30_day_view_ms": max(thirty.values()),
        "agencies": len(duck["rows"]),
        "mismatches": problems,
    }


def _markdown(figures: dict[str, Any], backend: str) -> str:
    n = figures["inquiries"]
    lines = [
        f"A national history of **{n:,} inquiries** ({figures['declarations']:,} declarations, "
        f"{figures['events']:,} hash-chained events) over two years, on {backend}, written by "
        f"`panjereh.dashboard.national` with its dashboard (the projector's replay, in a "
        f"process of its own, fed each event as it was chained; the other tables indexed while "
        f"it wrote the last of them) in {figures['generate_s']:.0f} s, then the events and goods "
        f"lines indexed in {figures['index_s']:.0f} s and the dashboard's tables vacuumed in "
        f"{figures['project_s']:.0f} s: **{figures['total_min']:.1f} minutes** end to end. "
        f"DuckDB {figures['duckdb_version']} computed the same "
        f"per-agency table from the raw per-inquiry rows ({figures['facts_rows']:,} rows "
        f"read from the store's inquiries after the generator ran, loaded in "
        f"{figures['duckdb_load_s']} s, not counted).",
        *(
            [
                "",
                "The targets are set for ten million inquiries; at this size DuckDB's fixed "
                "cost dominates and the ratio says little. The full-scale run is recorded in "
                "[dashboard.md](dashboard.md).",
            ]
            if n < FULL_INQUIRIES // 2  # the generator comes within a few percent of its target
            else []
        ),
        "",
        "| figure | measured | target | met |",
        "| --- | ---: | ---: | :---: |",
        f"| national per-agency table, full history (dashboard) | "
        f"{figures['league_all_time_ms']:.2f} ms | ≤ 0.1× DuckDB | "
        f"{'yes' if figures['ratio_to_duckdb'] <= TARGET_RATIO else '**no**'} |",
        f"| the same table in DuckDB (exact, from the raw rows) | "
        f"{figures['duckdb_table_ms']:.2f} ms | – | – |",
        f"| ratio dashboard / DuckDB | {figures['ratio_to_duckdb']:.4f}× | ≤ 0.1× | "
        f"{'yes' if figures['ratio_to_duckdb'] <= TARGET_RATIO else '**no**'} |",
        f"| slowest 30-day view ({figures['slowest_30_day_view'].removesuffix('_ms')}) | "
        f"{figures['slowest_30_day_view_ms']:.2f} ms | < 20 ms | "
        f"{'yes' if figures['slowest_30_day_view_ms'] < TARGET_VIEW_MS else '**no**'} |",
        f"| whole dashboard page, server-side | {figures['page_ms']:.1f} ms | < 150 ms | "
        f"{'yes' if figures['page_ms'] < TARGET_PAGE_MS else '**no**'} |",
        f"| server peak memory (RSS) | {figures['server_peak_mb']:.0f} MB | < 500 MB | "
        f"{'yes' if figures['server_peak_mb'] < TARGET_MEMORY_MB else '**no**'} |",
        f"| per-agency table against DuckDB: counts and rates exact, p50/p90 within one bin | "
        f"{len(figures['mismatches'])} differences over {figures['agencies']} agencies | 0 | "
        f"{'yes' if not figures['mismatches'] else '**no**'} |",
        f"| the national history with its dashboard, end to end | "
        f"{figures['total_min']:.1f} min | ≤ {TARGET_GENERATOR_MIN:.0f} min | "
        f"{'yes' if figures['total_min'] <= TARGET_GENERATOR_MIN else '**no**'} |",
        "",
        "Every view, median of the runs (ms):",
        "",
        "| view | median | best |",
        "| --- | ---: | ---: |",
    ]
    for key, value in figures.items():
        if key.endswith("_ms") and not key.endswith("best_ms") and f"{key[:-3]}_best_ms" in figures:
            lines.append(f"| {key[:-3]} | {value:.2f} | {figures[key[:-3] + '_best_ms']:.2f} |")
    lines += [
        "",
        "How it is measured: the views run in a process of their own (the server), each after "
        "one warm-up run; the page is rendered through the whole application (session cookie, "
        "the queries, Jinja2) by the ASGI test client, signed in as a supervisor; peak memory "
        "is that process's maximum resident set size. DuckDB runs in the benchmark's process "
        "on the same machine, in memory, with its default threads.",
    ]
    if figures["mismatches"]:
        lines += ["", "Differences found:", ""] + [f"- {p}" for p in figures["mismatches"][:20]]
    return "\n".join(lines)


def run(options: Options) -> Result:
    """Generate, project, measure, compare."""
    import duckdb

    from panjereh.dashboard import national

    inquiries = QUICK_INQUIRIES if options.quick else FULL_INQUIRIES
    repeat = 5 if options.quick else 15
    facts = options.workdir / "facts.csv"
    problem = postgres_problem(options.postgres_url) if options.postgres_url else "not used"

    def one(url: str, backend: str) -> Result:
        engine = engine_for(url)
        prepare(engine)
        summary = national.generate(
            engine,
            inquiries=inquiries,
            years=2,
            seed=1405,
            now=NOW,
            progress=lambda line: print(line, flush=True),
        )
        print("  writing the raw rows for DuckDB from the store's inquiries", flush=True)
        national.write_facts(engine, facts)
        engine.dispose()
        figures: dict[str, Any] = {
            "backend": backend,
            "inquiries": summary.inquiries,
            "declarations": summary.declarations,
            "events": summary.events,
            "generate_s": summary.seconds_generate,
            "index_s": summary.seconds_index,
            "project_s": summary.seconds_project,
            "total_min": summary.seconds_total / 60,
            "duckdb_version": duckdb.__version__,
        }
        figures.update(measure(url, facts, repeat=repeat))
        lines = [
            *summary.lines(),
            f"per-agency table, full history: {figures['league_all_time_ms']:.2f} ms "
            f"(DuckDB {figures['duckdb_table_ms']:.2f} ms, ratio {figures['ratio_to_duckdb']:.4f})",
            f"slowest 30-day view: {figures['slowest_30_day_view']} "
            f"{figures['slowest_30_day_view_ms']:.2f} ms; page {figures['page_ms']:.1f} ms; "
            f"server peak {figures['server_peak_mb']:.0f} MB; "
            f"{len(figures['mismatches'])} differences from DuckDB",
        ]
        return Result("dashboard", TITLE, figures, lines, _markdown(figures, backend))

    if problem is None and options.postgres_url:
        with postgres_database(options.postgres_url) as url:
            return one(url, "PostgreSQL")
    return one(sqlite_url(options.workdir / "national.db"), "SQLite")
