"""`python -m panjereh` runs the command line."""

from panjereh.cli import app

app()
