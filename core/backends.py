"""The names of the answer backends: registered as `resolution_qa.backends` entry points, read without importing them.

A backend is one module with a `BACKEND` object (see `resolution_qa.assistant.backends`) and one line in a
package's `[project.entry-points."resolution_qa.backends"]` table, as `llm` plugins are. The core only needs the
names (to validate settings and list choices), so it reads the entry points' metadata and imports nothing.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

GROUP = "resolution_qa.backends"


@cache
def registered() -> dict[str, EntryPoint]:
    """Entry points of the installed backends, by name, in a stable order (this package's own first)."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    own = [n for n in ("llamacpp", "ollama", "openai", "extractive") if n in found]
    return {name: found[name] for name in own + sorted(set(found) - set(own))}


def backend_names() -> tuple[str, ...]:
    return tuple(registered())
