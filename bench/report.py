"""Writing ``docs/benchmarks.md``: the machine, then one section per benchmark.

Each section sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` markers, so a
run of some benchmarks (``--only``) rewrites their sections and keeps the others as they were;
every section says when and on what it was measured.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from bench.common import Result
from bench.machine import Machine

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

_SECTION = re.compile(
    r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->", re.S
)


def existing_sections(text: str) -> dict[str, str]:
    """The sections of a previous doc, by benchmark name (markers included)."""
    return {m["name"]: m.group(0) for m in _SECTION.finditer(text)}


def section(result: Result, *, machine: Machine, when: datetime, quick: bool) -> str:
    """One benchmark's section, with its markers."""
    mode = " (`--quick`: short runs, rougher figures)" if quick else ""
    return "\n".join(
        [
            f"<!-- bench:{result.name} -->",
            f"## {result.title}",
            "",
            f"Measured {when:%Y-%m-%d %H:%M} UTC{mode} on {machine.one_line()}"
            f" (load average {machine.load} at the start of the run).",
            "",
            result.markdown.rstrip(),
            "",
            f"<!-- /bench:{result.name} -->",
        ]
    )


def render(
    *,
    names: tuple[str, ...],
    results: dict[str, Result],
    previous: str,
    machine: Machine,
    when: datetime,
    quick: bool,
) -> str:
    """The whole doc: new sections for ``results``, previous ones for the rest."""
    kept = existing_sections(previous)
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`), which runs the benchmarks on one"
        " machine in one run and rewrites this file; do not edit it by hand. The national"
        " dashboard benchmark (ten million inquiries, 15 to 35 minutes by host) runs only"
        " when named: `python -m bench --only dashboard`; its full-scale figures are also in"
        " [dashboard.md](dashboard.md).",
        "`python -m bench --only NAME` reruns one benchmark (its section is replaced, the"
        " others are kept with their own dates); `--quick` makes short, rougher runs.",
        "Each section also says how long a fixed Python workload took on its machine at the"
        " start (`bench.machine.calibrate`, best of 3): hosts of one model name differ, and so"
        " does one host over a day, by up to twice; compare figures whose workload took about"
        " the same time.",
        "",
        f"## Machine of the last run ({when:%Y-%m-%d %H:%M} UTC)",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {label} | {value} |" for label, value in machine.rows()),
        "",
    ]
    for name in names:
        if name in results:
            parts += [section(results[name], machine=machine, when=when, quick=quick), ""]
        elif name in kept:
            parts += [kept[name], ""]
    return "\n".join(parts).rstrip() + "\n"


def write(text: str, path: Path = DOC) -> None:
    """Replace the doc."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
