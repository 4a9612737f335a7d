"""Panjereh's benchmarks: ``python -m bench`` (``make bench``) runs them all on this machine,
prints the figures and rewrites ``docs/benchmarks.md`` with them.

Each benchmark is a module of this package that defines

- ``TITLE``: the heading of its section in the doc, and
- ``run(options: bench.common.Options) -> bench.common.Result``: it measures, and returns
  its figures (a flat mapping, for machines), the lines to print, and its section of the doc.

A new benchmark is a new module named in :data:`BENCHMARKS`; ``python -m bench --only NAME``
runs one and keeps the other sections of the doc as they were. The other modules are shared
by benchmarks: ``common`` (options, scratch stores, users, timing, profiling), ``machine``,
``report`` (the doc) and ``server`` (the application served by ``panjereh serve`` or stock
uvicorn in a subprocess).
"""

from __future__ import annotations

BENCHMARKS: tuple[str, ...] = ("filing", "clock", "web_queue", "exchange", "dashboard")
"""Module names of the benchmarks, in the order they run and appear in the doc."""

ON_REQUEST: tuple[str, ...] = ("dashboard",)
"""Benchmarks too long for a plain run: they run with ``--only NAME``, or short with ``--quick``."""
