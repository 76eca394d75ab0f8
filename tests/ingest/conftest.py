"""The UN-layout fixtures, written once per test session into a temporary folder (tests/ingest/un_layout.py)."""

from __future__ import annotations

import pytest

from resolution_qa.ingest import Document
from resolution_qa.ingest.pdf import parse_pdf
from tests.ingest.un_layout import UnFiles, shared_files


@pytest.fixture(scope="session")
def un_files(tmp_path_factory: pytest.TempPathFactory) -> UnFiles:
    """The bundled A/RES/75/158 as a UN-layout PDF and .docx, and A/RES/75/904 as a French and an English PDF."""
    return shared_files(tmp_path_factory)


@pytest.fixture(scope="session")
def un_pdf(un_files: UnFiles) -> Document:
    """The bundled resolution's UN-layout PDF, parsed in this process (once: pdfminer needs seconds for it)."""
    return parse_pdf(un_files.pdf.read_bytes(), str(un_files.pdf), bounded=False)
