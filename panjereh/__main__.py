"""`python -m panjereh` runs the command line."""

from panjereh.cli import app

if __name__ == "__main__":
    app()
