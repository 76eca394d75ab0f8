"""Safe writes of user files: whole files replaced atomically, JSON-lines files appended one whole line at a time.

A write that fails (a full disk, a quota, a killed process) must never damage what the file held before:

- `write_atomic` writes a temporary file beside the target, flushes it to disk, then renames it over the target
  (one `rename`: readers see the old file or the new one, never half of one); on any error the temporary file is
  removed and the target is as it was.
- `append_line` appends one line under an exclusive lock; a write that stops part-way (ENOSPC after some bytes) is
  cut back to the size the file had, and a torn last line left by an older program or a crash gets its newline
  first, so a new line never joins a torn one.
- `read_lines` gives the complete lines and says whether the last one was torn (no newline at the end), for readers
  that skip it rather than refuse the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import ResolutionQAError


class WriteError(ResolutionQAError):
    """A user file cannot be written (its previous content is kept)."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_target(path: Path, *, what: str = "the output file") -> None:
    """WriteError (one line) when `path` cannot be a file to write: a folder, a symbolic link, a device, a FIFO or a
    socket, or a path under something that is not a folder. Nothing is created."""
    path = Path(path)
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        info = None  # reported below, with the part of the path that is a file
    except OSError as exc:
        raise WriteError(f"{what} {path} cannot be checked: {_reason(exc)}") from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise WriteError(f"{what} {path} is a symbolic link; give the path of a regular file (nothing was written)")
        if stat.S_ISDIR(info.st_mode):
            raise WriteError(f"{what} {path} is a folder; give a file path inside it (nothing was written)")
        if not stat.S_ISREG(info.st_mode):
            raise WriteError(f"{what} {path} is not a regular file (a device, FIFO or socket); give a file path "
                             "(nothing was written)")
        return
    for parent in path.parents:
        try:
            parent_info = parent.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise WriteError(f"{what} {path} cannot be checked: {_reason(exc)}") from None
        if not stat.S_ISDIR(parent_info.st_mode):
            raise WriteError(f"{what} {path} is under {parent}, which is a file, not a folder (nothing was written)")
        return


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened or synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None, what: str = "the file") -> None:
    """Replace `path` with `data` in one rename; WriteError (one line) on failure, the old file untouched.

    `mode`: permissions of a new file (default: those of the file replaced, else 0o666 less the umask)."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    check_target(path, what=what)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {what} {path}: {_reason(exc)} (nothing was written)") from None
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, _mode_for(path, mode))
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise WriteError(f"cannot write {what} {path}: {_reason(exc)}; it is as it was before") from None
    _fsync_folder(path.parent)


def _mode_for(path: Path, mode: int | None) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    if mode is not None:
        return mode
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def append_line(path: Path, line: str, *, mode: int = 0o600, what: str = "the file") -> None:
    """Append `line` (a newline is added) as one whole line: after a failure the file is as it was.

    Appends are serialised across processes with an exclusive `flock`; a file whose last line has no newline (torn
    by an older program, or a crash) gets one first, so the torn line stays alone and readers can skip it."""
    import fcntl

    path = Path(path)
    payload = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    except OSError as exc:
        raise WriteError(f"cannot write {what} {path}: {_reason(exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):  # give back the bytes that were written: no torn line
                os.ftruncate(fd, size)
            raise WriteError(f"cannot write {what} {path}: {_reason(exc)}; nothing of this line was kept, the "
                             "earlier lines are intact") from None
    except OSError as exc:
        raise WriteError(f"cannot write {what} {path}: {_reason(exc)}") from None
    finally:
        os.close(fd)


def read_lines(text: str) -> tuple[list[str], bool]:
    """The lines of a JSON-lines text, and whether its last line is torn (not ended by a newline)."""
    lines = text.split("\n")
    torn = lines[-1] != ""
    if not torn:
        lines.pop()
    return lines, torn
