"""The national dashboard: which agency holds trade back, and what the delay costs.

Every figure comes from the hash-chained event log. A projector (``projector``) reads the log
in ``seq`` order from the last projected position and keeps incremental aggregates
(``models``); the queries (``queries``) read only those aggregates, so a page over years of
history costs a handful of rows. See ``docs/dashboard.md``.
"""
