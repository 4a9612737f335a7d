"""Declarations: one filing by a trader, with its goods items."""
