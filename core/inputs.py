"""Reading what users give us, the one way: a regular file within a size limit, decoded as UTF-8; one-line errors.

Every input path goes through here: resolution files (`ingest/parser.py`), `ask --batch` and `search --batch`
files (`cli/`), evaluation datasets (`eval/dataset.py`), and any later file a user names. What is checked, in order:

- the path: missing, a broken symbolic link, a symbolic-link loop, permission denied, a part of it that is not a
  folder -- each a one-line error naming the path;
- the file type, from `stat` before the file is opened and again from `fstat` once it is (a path swapped for a
  FIFO in between is still refused): only a regular file is read. A folder, a FIFO (reading one blocks until
  someone writes), a device (`/dev/zero` never ends) or a socket is refused without reading a byte;
- the size: `stat` first, then the read itself stops at `limit + 1` bytes (files such as /proc/self/environ
  report 0 bytes and hold more);
- the encoding: UTF-8, with or without a byte-order mark. UTF-16 and UTF-32 are named as such ("save it as
  UTF-8"); a PDF, zip/Word, image, archive or program file is named by its first bytes; NUL bytes or many
  control characters mean binary; other undecodable bytes are "not valid UTF-8 (byte N)", with a hint for
  latin-1 and for a file cut in the middle of a character.

A resolution may also be a PDF or a Word (.docx) file: `read_document` reads its bytes with the same checks (path,
type, size) and names its format from its first bytes, whatever the file is called; ingest/ reads what is inside.

Text that does not come from a file (a question on the command line, a string in a JSON line) is checked with
`check_text`: Python hands undecodable command-line bytes over as lone surrogates, which crash tokenizers.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import InputFileError, ResolutionQAError, one_line

#: The largest file read from a user (any kind): the bundled resolution is 54 kB, the longest General Assembly
#: resolutions a few hundred kB, the project's question sets ~100 kB.
MAX_INPUT_BYTES = 5_000_000

# Files people pick by mistake, recognised by their first bytes.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "zip (or .docx/.odt)"),
    (b"\xd0\xcf\x11\xe0", "Word (.doc)"),
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x7fELF", "program (ELF)"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"GGUF", "GGUF model"),
)
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Control characters that plain text does not hold (tab, newlines, form feed and vertical tab are text).
_CONTROL = frozenset(range(0x20)) - frozenset(b"\t\n\r\x0b\x0c\x1b") | {0x7F}
_SAMPLE = 65536


@dataclass(frozen=True)
class InputKind:
    """What a file is for, which is all its messages need: what one of them holds, how to fix a wrong one."""

    one: str  # "one resolution": "... is too large for one resolution"
    fix: str  # the hint after "not text;": "export the resolution as UTF-8 text first"
    too_large: str  # the hint after "too large": "give the text of a single resolution"
    limit: int = MAX_INPUT_BYTES
    error: type[ResolutionQAError] = InputFileError
    missing: str = "file not found"  # after "PATH: " when nothing is there
    empty: str = "file is empty"  # after "PATH: " when it holds only whitespace


RESOLUTION = InputKind(
    one="one resolution", fix="give the resolution as PDF, Word (.docx) or UTF-8 text",
    too_large="give the text of a single resolution",
)
BATCH = InputKind(
    one="a batch file", fix="give a UTF-8 text file, one line per item", too_large="split it into smaller files"
)


class UndecodableTextError(ResolutionQAError):
    """Text that is not valid Unicode: undecodable bytes on the command line, or a lone surrogate in JSON."""


# --- files -------------------------------------------------------------------------------------------------------


def _open_problem(path: Path, exc: OSError, missing: str = "file not found") -> str:
    """Why a path cannot be opened, in words."""
    code = exc.errno
    if code == errno.ENOENT:
        if os.path.lexists(path):
            return f"is a broken symbolic link (to {os.readlink(path)!r}, which does not exist)"
        return missing
    if code == errno.ELOOP:
        return "is a symbolic link loop (the link points back to itself); point it at a real file"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied; make the file readable (chmod) or copy it somewhere you can read"
    if code == errno.ENOTDIR:
        return f"{missing} (a part of the path is a file, not a folder)"
    if code == errno.ENAMETOOLONG:
        return "the path is too long"
    if code == errno.ENXIO:
        return "is a socket or a device, not a file"
    return f"cannot open it ({one_line(exc, kind=True)})"


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a text file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file; save the text to a file first"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _too_large(path: Path, size: int | None, kind: InputKind) -> ResolutionQAError:
    limit_mb = f"{kind.limit / 1e6:g} MB"
    shown = f"{size / 1e6:.1f} MB is" if size is not None else "more than " + limit_mb + " is"
    return kind.error(f"{path}: {shown} too large for {kind.one} (limit {limit_mb}); {kind.too_large}")


def read_bytes(path: str | Path, kind: InputKind = RESOLUTION) -> bytes:
    """The bytes of a regular file of at most kind.limit bytes; `kind.error` with a one-line message otherwise."""
    path = Path(path)
    try:
        before = os.stat(path)  # follows links: a loop or a dangling link fails here, before any open
    except OSError as exc:
        raise kind.error(f"{path}: {_open_problem(path, exc, kind.missing)}") from None
    if (why := _not_regular(before.st_mode)) is not None:
        raise kind.error(f"{path}: {why}")  # a FIFO is never opened (that could wake a writer), a device never read
    if before.st_size > kind.limit:
        raise _too_large(path, before.st_size, kind)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a path swapped for a FIFO since the stat does not block the open
    except OSError as exc:
        raise kind.error(f"{path}: {_open_problem(path, exc, kind.missing)}") from None
    chunks: list[bytes] = []
    try:
        if (why := _not_regular(os.fstat(fd).st_mode)) is not None:
            raise kind.error(f"{path}: {why}")
        total = 0
        while chunk := os.read(fd, min(1 << 20, kind.limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > kind.limit:  # grew since the stat, or a size the file system does not report
                raise _too_large(path, None, kind)
    except OSError as exc:
        raise kind.error(f"{path}: cannot read it ({one_line(exc, kind=True)})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    sample = data[:_SAMPLE]
    if len(sample) < 8:
        return False
    even, odd = sample[0::2], sample[1::2]
    for zeros, other in ((odd, even), (even, odd)):
        if zeros.count(0) > 0.3 * len(zeros) and other.count(0) < 0.05 * len(other):
            return True
    return False


def decode(data: bytes, path: str | Path, kind: InputKind = RESOLUTION) -> str:
    """The text of a file's bytes (UTF-8, a byte-order mark dropped); `kind.error` naming what it is otherwise."""
    fail = kind.error
    if not data.strip():
        raise fail(f"{path}: {kind.empty}")
    if data.startswith(_UTF32_BOMS):
        raise fail(f"{path}: is UTF-32 text; save it as UTF-8 (e.g. `iconv -f UTF-32 -t UTF-8`)")
    utf16 = f"{path}: is UTF-16 text; save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)"
    if data.startswith(_UTF16_BOMS):
        raise fail(utf16)
    for magic, name in _MAGIC:
        if data.startswith(magic):
            raise fail(f"{path}: is a {name} file, not text; {kind.fix}")
    if _utf16(data):  # no byte-order mark, but a NUL in every other byte
        raise fail(utf16)
    if b"\x00" in data:
        raise fail(f"{path}: looks binary (contains NUL bytes); give a UTF-8 text file")
    sample = data[:_SAMPLE]
    if sum(byte in _CONTROL for byte in sample) > 0.05 * len(sample):
        raise fail(f"{path}: looks binary (control characters); give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            raise fail(
                f"{path}: ends in the middle of a UTF-8 character (byte {exc.start} of {len(data)}); "
                "the file looks truncated, copy it again"
            ) from None
        raise fail(f"{path}: not valid UTF-8 (byte {exc.start}); convert it, e.g. `iconv -f latin1 -t utf-8`") from None


def read_text(path: str | Path, kind: InputKind = RESOLUTION) -> str:
    """A user's text file: `read_bytes` then `decode`."""
    return decode(read_bytes(path, kind), path, kind)


@dataclass(frozen=True)
class UserDocument:
    """A user's resolution file: its format, from its first bytes, and its bytes (its text too, for text)."""

    format: Literal["text", "pdf", "docx"]
    data: bytes
    text: str = ""


def read_document(path: str | Path, kind: InputKind = RESOLUTION) -> UserDocument:
    """A resolution file as text, PDF or Word (.docx, a zip: ingest/ checks it is one); every other check of
    `read_text` applies, and a file that is neither is refused as `read_text` refuses it."""
    data = read_bytes(path, kind)
    if b"%PDF-" in data[:1024]:  # the header may follow a few bytes of junk, as PDF readers accept
        return UserDocument("pdf", data)
    if data.startswith(b"PK\x03\x04"):
        return UserDocument("docx", data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise kind.error(f"{path}: is an old Word (.doc) file; save it as .docx or PDF, or as UTF-8 text")
    return UserDocument("text", data, decode(data, path, kind))


# --- text that is not a file -----------------------------------------------------------------------------------


def check_text(text: str, what: str = "the question") -> str:
    """`text` unchanged if it is valid Unicode; else UndecodableTextError naming the bad byte or character.

    Python turns command-line bytes that are not UTF-8 into lone surrogates (U+DC80..U+DCFF), and JSON's
    "\\udcff" gives one too; tokenizers and encoders fail on them with a TypeError.
    """
    for at, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            code = ord(char)
            if 0xDC80 <= code <= 0xDCFF:
                raise UndecodableTextError(
                    f"{what} is not valid UTF-8 (byte 0x{code - 0xDC00:02X} at character {at + 1}); "
                    "set the terminal to UTF-8 (e.g. LANG=C.UTF-8) and type it again"
                )
            raise UndecodableTextError(f"{what} holds an unpaired surrogate (U+{code:04X} at character {at + 1})")
    return text


def json_line(line: str) -> Any:
    """One JSON value from one line; ValueError with a one-line reason (bad JSON, nested too deeply)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON for this program (nested too deeply)") from None
