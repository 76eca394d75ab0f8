"""The `resolution-qa` command line: one entry point, a module per command group."""

from .app import app, main

__all__ = ["app", "main"]
