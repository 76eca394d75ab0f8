"""Where resolutions come from: files named directly, and the *.txt files of named folders."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from resolution_qa.core.errors import InputFileError


def same_file_key(path: Path) -> str:
    """A key equal for two paths naming the same file: its real path. Never raises (a symbolic-link loop, where
    Path.resolve() raises RuntimeError, keeps the path as written; reading it reports the loop)."""
    return os.path.realpath(path)


def expand_sources(paths: Iterable[str | Path]) -> list[Path]:
    """The files to ingest, in the order given: a folder stands for its *.txt entries, sorted by name.

    A folder without .txt entries is an error. Files are not checked here: reading reports each bad one in one
    line (core/inputs.py), so a *.txt in a folder that is a FIFO, a broken link or a link loop fails the ingest
    instead of being skipped in silence; only sub-folders named *.txt are left out. A file named twice (directly
    and through its folder) is kept once.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted((p for p in path.glob("*.txt") if not p.is_dir()), key=lambda p: p.name)
            if not found:
                raise InputFileError(
                    f"{path}: folder holds no .txt resolution files; put UTF-8 .txt files in it or name the files"
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
