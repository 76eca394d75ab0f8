"""Where resolutions come from: files named directly, and the .txt, .pdf and .docx files of named folders."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from resolution_qa.core.errors import InputFileError

#: The files a folder stands for: the formats the UN publishes resolutions in (ingest/readers.py reads them).
EXTENSIONS = (".txt", ".pdf", ".docx")


def same_file_key(path: Path) -> str:
    """A key equal for two paths naming the same file: its real path. Never raises (a symbolic-link loop, where
    Path.resolve() raises RuntimeError, keeps the path as written; reading it reports the loop)."""
    return os.path.realpath(path)


def expand_sources(paths: Iterable[str | Path]) -> list[Path]:
    """The files to ingest, in the order given: a folder stands for its .txt, .pdf and .docx entries, sorted by name
    (the extension's case ignored: "A_RES_75_158.FR.PDF").

    A folder without such entries is an error. Files are not checked here: reading reports each bad one in one
    line (core/inputs.py), so a *.txt in a folder that is a FIFO, a broken link or a link loop fails the ingest
    instead of being skipped in silence; only sub-folders so named are left out. A file named twice (directly
    and through its folder) is kept once.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                (p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and not p.is_dir()), key=lambda p: p.name
            )
            if not found:
                raise InputFileError(
                    f"{path}: folder holds no .txt, .pdf or .docx resolution files; "
                    "put the resolution's files in it or name the files"
                )
            files += found
        else:
            files.append(path)
    seen: set[str] = set()
    unique: list[Path] = []
    for file in files:
        key = same_file_key(file)
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return unique
