"""resolution-qa: cited answers about UN resolutions, in French or English.

The Python API, from one place (README "Python API")::

    from resolution_qa import Assistant, Settings

    assistant = Assistant(Settings(backend="extractive"))
    answer = assistant.ask("Que dit le paragraphe 27 ?")
    print(answer.text, [c.formal for c in answer.citations])

Each public name is imported when it is first used (PEP 562), so `import resolution_qa.core.settings` or the
command line's `--help` does not load the models' libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> (module, attribute).
_EXPORTS: dict[str, tuple[str, str]] = {
    # settings and errors
    "Settings": ("resolution_qa.core.settings", "Settings"),
    "ResolutionQAError": ("resolution_qa.core.errors", "ResolutionQAError"),
    "backend_names": ("resolution_qa.core.backends", "backend_names"),
    # resolutions
    "Document": ("resolution_qa.ingest", "Document"),
    "Unit": ("resolution_qa.ingest", "Unit"),
    "parse_file": ("resolution_qa.ingest", "parse_file"),
    # the index
    "open_retriever": ("resolution_qa.vectorstore", "open_retriever"),
    "update_index": ("resolution_qa.vectorstore", "ingest"),
    # answers
    "Assistant": ("resolution_qa.assistant", "Assistant"),
    "Answer": ("resolution_qa.assistant.types", "Answer"),
    "Citation": ("resolution_qa.assistant.types", "Citation"),
    "Sources": ("resolution_qa.assistant.types", "Sources"),
    "Timings": ("resolution_qa.assistant.types", "Timings"),
    "Turn": ("resolution_qa.assistant.types", "Turn"),
}

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Document",
    "ResolutionQAError",
    "Settings",
    "Sources",
    "Timings",
    "Turn",
    "Unit",
    "__version__",
    "backend_names",
    "open_retriever",
    "parse_file",
    "update_index",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; nothing is imported at run time
    from resolution_qa.assistant import Assistant
    from resolution_qa.assistant.types import Answer, Citation, Sources, Timings, Turn
    from resolution_qa.core.backends import backend_names
    from resolution_qa.core.errors import ResolutionQAError
    from resolution_qa.core.settings import Settings
    from resolution_qa.ingest import Document, Unit, parse_file
    from resolution_qa.vectorstore import ingest as update_index
    from resolution_qa.vectorstore import open_retriever


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
