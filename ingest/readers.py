"""A resolution file of any format the UN publishes it in (UTF-8 text, PDF, Word .docx) -> its document."""

from __future__ import annotations

from pathlib import Path

from resolution_qa.core.inputs import RESOLUTION, read_document

from .parser import BUNDLED_PATH, parse_text
from .units import Document


def read_resolution(path: Path) -> Document:
    """Parse one resolution file, its format told by its first bytes (a PDF named .txt is read as a PDF)."""
    file = read_document(path, RESOLUTION)
    if file.format == "pdf":
        from .pdf import parse_pdf

        return parse_pdf(file.data, str(path))
    if file.format == "docx":
        from .word import parse_docx

        return parse_docx(file.data, str(path))
    return parse_text(file.text, name=str(path))


def parse_file(path: Path | None = None) -> Document:
    """Parse a resolution file (UTF-8 text, PDF or Word .docx); without a path, the bundled A/RES/75/158."""
    return read_resolution(Path(path) if path is not None else BUNDLED_PATH)
