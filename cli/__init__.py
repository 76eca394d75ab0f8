"""The `resolution-qa` command line: one entry point (main.py), a module per command group."""

from .app import app
from .main import main

__all__ = ["app", "main"]
