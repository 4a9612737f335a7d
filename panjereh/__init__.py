"""Panjereh (پنجره): an open-source national trade single window."""

__version__ = "0.1.0"
