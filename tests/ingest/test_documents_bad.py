"""Bad PDF and Word files: one line each, within bounded time and memory, and the index left as it was."""

from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from resolution_qa.core.errors import InputFileError
from resolution_qa.core.inputs import MAX_INPUT_BYTES
from resolution_qa.core.settings import Settings
from resolution_qa.ingest import parse_file
from resolution_qa.ingest.pdf import read_pdf
from resolution_qa.ingest.word import MAX_UNPACKED
from tests.fakes import BagOfWordsEmbeddings
from tests.ingest.un_layout import SMALL_EN, UnFiles, resolution_pdf
from tests.support import FIXTURES


def refused(path: Path, within: float = 5.0) -> str:
    started = time.perf_counter()
    with pytest.raises(InputFileError) as info:
        parse_file(path)
    assert time.perf_counter() - started < within
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def docx_with(tmp_path: Path, name: str, entries: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return write(tmp_path, name, buffer.getvalue())


def plain_pdf(path: Path, lines: list[str], pages: int = 1) -> Path:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(path))
    for _ in range(pages):
        for i, line in enumerate(lines):
            c.drawString(72, 750 - 14 * i, line)
        c.showPage()
    c.save()
    return path


# --- refused before any PDF or Word parser runs ---------------------------------------------------------------------


def test_a_truncated_pdf(un_files: UnFiles, tmp_path: Path) -> None:
    data = un_files.pdf.read_bytes()
    path = write(tmp_path, "cut.pdf", data[: len(data) // 2])
    assert "is a PDF that looks truncated (no %%EOF end marker); download it again" in refused(path, within=0.5)


def test_a_pdf_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.pdf"
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(MAX_INPUT_BYTES + 1)
    assert "too large for one resolution" in refused(path, within=0.5)


def test_an_old_word_file(tmp_path: Path) -> None:
    path = write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert "is an old Word (.doc) file; save it as .docx or PDF" in refused(path, within=0.5)


def test_a_docx_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    chunk = b"\x00" * (1 << 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a real bomb: its entry inflates to 41 MB
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            for _ in range(MAX_UNPACKED // len(chunk) + 1):
                entry.write(chunk)
    path = write(tmp_path, "bomb.docx", buffer.getvalue())
    assert path.stat().st_size < 100_000
    message = refused(path, within=0.5)
    assert re.search(r"unpacks to 4\d MB \(limit 40 MB\): a zip bomb or not one resolution", message)


def test_a_docx_with_no_paragraphs(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    assert "this Word file holds no paragraphs of text" in refused(path)


def test_a_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = docx_with(tmp_path, "report.odt", {"mimetype": b"application/vnd.oasis.opendocument.text",
                                                "content.xml": b"<office/>"})
    assert "is a zip file but not a Word document (.docx)" in refused(path)


def test_a_damaged_docx(tmp_path: Path) -> None:
    path = docx_with(tmp_path, "broken.docx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document"})
    assert "is a damaged Word file" in refused(path)


def test_a_docx_with_an_entity_bomb_is_not_expanded(tmp_path: Path, un_files: UnFiles) -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "ha">' +
              b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((98 + i,) + (97 + i,) * 10)
                       for i in range(9)) + b"]>")
    with zipfile.ZipFile(un_files.docx) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    document = entries["word/document.xml"]
    start = document.index(b"<w:document")
    entries["word/document.xml"] = laughs + document[start:].replace(b"<w:t>", b"<w:t>&j;", 1)
    path = docx_with(tmp_path, "laughs.docx", entries)
    started = time.perf_counter()
    try:  # a billion "ha"s would take gigabytes: the entity is left unexpanded (python-docx's parser), or refused
        doc = parse_file(path)
    except InputFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert not any("haha" in u.text for u in doc.units)
    assert time.perf_counter() - started < 10


def test_a_docx_that_is_not_a_resolution(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Minutes of the staff meeting")
    document.add_paragraph("1. Coffee machine.")
    path = tmp_path / "minutes.docx"
    document.save(str(path))
    assert "this Word file has no resolution symbol (A/RES/…)" in refused(path)


def test_a_bad_document_leaves_the_index_as_it_was(tmp_path: Path, un_files: UnFiles) -> None:
    from resolution_qa.vectorstore import UnitIndex, ingest

    settings = Settings(index_dir=tmp_path / "index", backend="extractive")
    embeddings = BagOfWordsEmbeddings.small()
    good = FIXTURES / "A_RES_75_999.en.txt"
    ingest(settings, embeddings, paths=[good])

    def snapshot() -> tuple:
        index = UnitIndex(settings.store, settings.embedding, embeddings)
        return index.info(), sorted((d.symbol, u.id, u.text) for d in index.documents() for u in d.units)

    before, embedded = snapshot(), embeddings.documents_embedded
    data = un_files.pdf.read_bytes()
    for bad in (write(tmp_path, "cut.pdf", data[:-4000]), docx_with(tmp_path, "x.docx", {"a.txt": b"a"})):
        with pytest.raises(InputFileError):
            ingest(settings, embeddings, paths=[good, un_files.docx, bad])  # the good files too: all or nothing
    assert snapshot() == before and embeddings.documents_embedded == embedded


# --- read in the bounded child process --------------------------------------------------------------------------

server = pytest.mark.server  # each starts the PDF reader's child process


@server
def test_an_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    resolution_pdf(SMALL_EN, path, encrypt="secret")
    assert "is an encrypted (password-protected) PDF; open it and save an unprotected copy" in refused(path, 60)


@server
def test_a_scanned_pdf_without_a_text_layer(tmp_path: Path) -> None:
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    scan = tmp_path / "page.png"
    Image.new("L", (400, 560), 255).save(scan)
    path = tmp_path / "scan.pdf"
    c = Canvas(str(path))
    for number in range(1, 4):
        c.drawImage(str(scan), 0, 0, 595, 842)
        c.drawString(500, 20, f"{number}/3")  # a scanner's stamp is no text layer
        c.showPage()
    c.save()
    assert refused(path, 60).endswith("no text layer: run OCR first (its pages are images, a scan)")


@server
def test_a_malformed_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "garbage.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    message = refused(path, 60)
    assert "damaged PDF" in message and "download it again" in message


@server
def test_pdfs_that_are_not_resolutions(tmp_path: Path) -> None:
    letter = plain_pdf(tmp_path / "letter.pdf", ["Dear colleagues,", "Please find the agenda attached."])
    assert "this PDF has no resolution symbol (A/RES/…) in its masthead, running heads or title line" in refused(
        letter, 60)
    cover = plain_pdf(tmp_path / "cover.pdf", ["United Nations A/RES/75/904", "Annex: list of participants"])
    assert "does not look like a General Assembly resolution" in refused(cover, 60)


@server
def test_a_pdf_of_too_many_pages(tmp_path: Path) -> None:
    path = plain_pdf(tmp_path / "long.pdf", ["x"], pages=301)
    assert "has 301 pages; one resolution has at most 300" in refused(path, 60)


@server
def test_a_pdf_that_inflates_past_the_memory_limit(tmp_path: Path) -> None:
    bomb = zlib.compressobj(9)
    stream = b"".join(bomb.compress(b"\x00" * (1 << 22)) for _ in range(100)) + bomb.flush()  # 400 MB from ~400 kB
    data = _one_page_pdf(stream)
    started = time.perf_counter()
    with pytest.raises(InputFileError) as info:
        read_pdf(data, "bomb.pdf", memory_mb=250)
    assert "bomb.pdf: reading this PDF needs more than 250 MB of memory" in str(info.value)
    assert time.perf_counter() - started < 60


@server
def test_a_pdf_that_takes_too_long(un_files: UnFiles) -> None:
    with pytest.raises(InputFileError) as info:
        read_pdf(un_files.pdf.read_bytes(), "slow.pdf", cpu_s=1)  # the fixture needs ~4 s of processor time
    assert str(info.value).startswith("slow.pdf: reading this PDF took more than 1 s of processor time")


def _one_page_pdf(content: bytes) -> bytes:
    """A minimal PDF whose one page's content stream is `content`, FlateDecode'd."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
