"""``python -m bench``: run the benchmarks, print their figures, rewrite docs/benchmarks.md.

python -m bench                  # every benchmark, full length (a few minutes)
python -m bench --quick          # every benchmark, short runs
python -m bench --only filing    # one benchmark (repeatable); other sections are kept
python -m bench --no-doc         # print only
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import BENCHMARKS, ON_REQUEST, report
from bench.common import DEFAULT_POSTGRES_URL, Options, Result
from bench.machine import describe


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="short runs, rougher figures")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite the doc")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PANJEREH_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an administrative PostgreSQL URL; a scratch database is created and dropped"
        " (default: $PANJEREH_BENCH_POSTGRES_URL or the local server)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; the exit code is 1 if one of them failed to run."""
    args = _arguments(argv)
    # The national dashboard benchmark writes ten million inquiries (15 to 35 minutes by host,
    # ~26 GB): it runs when named with --only, or in its quick form with --quick.
    if args.only:
        names = tuple(n for n in BENCHMARKS if n in args.only)
    else:
        names = tuple(n for n in BENCHMARKS if args.quick or n not in ON_REQUEST)
    postgres_url = None if args.no_postgres else args.postgres_url.replace("+psycopg", "")
    machine = describe(postgres_url)
    when = datetime.now(UTC)
    print(f"Panjereh benchmarks, {when:%Y-%m-%d %H:%M} UTC, on {machine.one_line()}")
    print(f"load average (1, 5, 15 min): {machine.load}", flush=True)
    if float(machine.load.split(",")[0]) > machine.cores / 2:
        print("warning: the machine is busy; figures will be lower and noisier", flush=True)
    results: dict[str, Result] = {}
    failed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="panjereh-bench-") as scratch:
        for name in names:
            workdir = Path(scratch) / name
            workdir.mkdir()
            options = Options(workdir=workdir, quick=args.quick, postgres_url=postgres_url)
            module = importlib.import_module(f"bench.{name}")
            print(f"\n== {module.TITLE}", flush=True)
            t0 = time.perf_counter()
            try:
                result: Result = module.run(options)
            except Exception as error:  # report it and go on with the other benchmarks
                traceback.print_exc()
                print(f"  {name} FAILED: {type(error).__name__}: {error}", flush=True)
                failed.append(name)
                continue
            results[name] = result
            for line in result.lines:
                print(f"  {line}")
            print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\nall done in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps({n: r.figures for n, r in results.items()}, indent=1, default=str)
        )
    if results and not args.no_doc:
        previous = report.DOC.read_text(encoding="utf-8") if report.DOC.exists() else ""
        text = report.render(
            names=BENCHMARKS,
            results=results,
            previous=previous,
            machine=machine,
            when=when,
            quick=args.quick,
        )
        report.write(text)
        print(f"wrote {report.DOC.name} in docs/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
