"""Where resolutions come from: files named directly, and the *.txt files of named folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from resolution_qa.core.errors import InputFileError


def expand_sources(paths: Iterable[str | Path]) -> list[Path]:
    """The files to ingest, in the order given: a folder stands for its *.txt files, sorted by name.

    A folder without .txt files is an error; files are not checked here (parsing reports them). A file
    named twice (directly and through its folder) is kept once.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted((p for p in path.glob("*.txt") if p.is_file()), key=lambda p: p.name)
            if not found:
                raise InputFileError(
                    f"{path}: folder holds no .txt resolution files; put UTF-8 .txt files in it or name the files"
                )
            files += found
        else:
            files.append(path)
    seen: set[Path] = set()
    unique: list[Path] = []
    for file in files:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return unique
