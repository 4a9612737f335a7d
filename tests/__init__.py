"""Panjereh's test suite.

The suite runs with ``PANJEREH_ENV=test`` and Argon2's cheapest parameters (the same code
path; see ``panjereh.auth.passwords``), set here before anything reads the settings.
"""

import os

os.environ.setdefault("PANJEREH_ENV", "test")
os.environ.setdefault("PANJEREH_PASSWORD_HASH_PROFILE", "cheapest")
