"""The real corpora: find, verify (sha256, every time), cache, download and preprocess.

The manifest is data, not code. Its canonical copy is ``grader/data/corpora.json``,
because it must ship inside the wheel (students and Dask workers have no checkout);
``datasets/manifest.json`` is a byte-identical copy for people reading the repository,
and a test keeps the two equal. Reading the repository copy from the package (or the
other way round) would break in one of the two settings, so nothing here reads
``datasets/`` at run time.

Where a corpus file is looked for, in order:

1. the data dir: the ``data_dir`` argument (the CLI's ``--data-dir``), else the
   environment variable ``RNN_GRADER_DATA``; a folder holding the file, or the file;
2. the user cache, ``$XDG_CACHE_HOME/rnn-autograder`` (``~/.cache/rnn-autograder``);
3. the canonical public URL, downloaded into the cache (temp file + rename) when
   ``download=True``.

A file that is found but does not match the manifest's sha256 is an error, never
skipped silently: grading against a different text would move every perplexity.

The preprocessing follows the book exactly (see ``datasets/README.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader.errors import ConfigError

__all__ = [
    "DATA_ENV",
    "CorpusError",
    "CorpusSpec",
    "cache_dir",
    "corpus_path",
    "corpus_spec",
    "load_corpus",
    "load_jay_lyrics",
    "load_manifest",
    "load_time_machine",
    "manifest_path",
    "resolve_data_dir",
]

DATA_ENV = "RNN_GRADER_DATA"
"""Environment variable naming the data dir when no ``data_dir`` argument is given."""

CACHE_SUBDIR = "rnn-autograder"
"""The folder under the user cache (``$XDG_CACHE_HOME`` or ``~/.cache``)."""

_CHUNK = 1 << 16


class CorpusError(ConfigError):
    """A corpus is missing, unknown, truncated or not the file the manifest pins."""


@dataclass(frozen=True)
class CorpusSpec:
    """One corpus as the manifest lists it."""

    name: str
    """The corpus name used throughout the grader (``timemachine``)."""
    file: str
    """The file name in a data dir or the cache."""
    url: str
    """The canonical public location."""
    bytes: int
    """The file's exact size."""
    sha256: str
    """The file's sha256, hex."""
    preprocessing: str
    """The name of the book's preprocessing applied by :func:`load_corpus`."""
    member: str | None = None
    """For a zip archive, the member holding the text."""


def manifest_path() -> Path:
    """Return the path of the canonical manifest inside the package."""
    return Path(__file__).resolve().parents[1] / "data" / "corpora.json"


@lru_cache(maxsize=1)
def _manifest_text() -> str:
    return manifest_path().read_text(encoding="utf-8")


def load_manifest() -> dict[str, Any]:
    """Return the parsed manifest (a fresh dict on every call; callers may mutate it)."""
    return json.loads(_manifest_text())


def corpus_spec(name: str) -> CorpusSpec:
    """Return the manifest entry of corpus ``name``; an unknown name lists the known ones."""
    entries = {entry["name"]: entry for entry in load_manifest()["corpora"]}
    if name not in entries:
        raise CorpusError(
            f"unknown corpus {name!r}: the manifest ({manifest_path()}) lists {sorted(entries)}. "
            "Use one of those names."
        )
    fields = {key: entries[name][key] for key in CorpusSpec.__dataclass_fields__ if key in entries[name]}
    return CorpusSpec(**fields)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the data dir: the argument, else ``$RNN_GRADER_DATA``, else None."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_ENV, "")
    return Path(from_env).expanduser() if from_env else None


def cache_dir() -> Path:
    """Return the user cache folder (``$XDG_CACHE_HOME/rnn-autograder`` or ``~/.cache/...``)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / CACHE_SUBDIR


def _sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _verify(path: Path, spec: CorpusSpec, *, fix: str) -> Path:
    """Return ``path`` if its sha256 is the manifest's; raise :class:`CorpusError` otherwise."""
    actual, size = _sha256_of(path)
    if actual != spec.sha256:
        raise CorpusError(
            f"corpus file {path} is not the {spec.name!r} corpus the manifest pins: "
            f"expected sha256 {spec.sha256} ({spec.bytes:,} bytes), "
            f"actual sha256 {actual} ({size:,} bytes). "
            f"The file is truncated, corrupted or a different text. {fix}"
        )
    return path


def _in_data_dir(root: Path, spec: CorpusSpec) -> Path | None:
    """The candidate file in a data dir (a folder or the file itself), or None."""
    if root.is_file():
        return root
    candidate = root / spec.file
    return candidate if candidate.is_file() else None


def _data_dir_fix(spec: CorpusSpec) -> str:
    return (
        f"Fix: replace it with a good copy (from {spec.url}), or point --data-dir / "
        f"{DATA_ENV} at a folder that holds a good {spec.file}."
    )


def _cache_fix(path: Path) -> str:
    return f"Fix: delete {path} (the next run downloads it again), or point --data-dir at a good copy."


def corpus_path(name: str, *, data_dir: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Return the verified local path of corpus ``name``: data dir, else cache, else download.

    Raises :class:`CorpusError` if the file found has the wrong sha256, if the download
    fails, or if it is nowhere and ``download`` is False.
    """
    spec = corpus_spec(name)
    root = resolve_data_dir(data_dir)
    found = _in_data_dir(root, spec) if root is not None else None
    if found is not None:
        return _verify(found, spec, fix=_data_dir_fix(spec))
    cached = cache_dir() / spec.file
    if cached.is_file():
        return _verify(cached, spec, fix=_cache_fix(cached))
    if download:
        return _download(spec, cached)
    raise CorpusError(_not_found_message(spec, root, cached))


def _not_found_message(spec: CorpusSpec, root: Path | None, cached: Path) -> str:
    where = f"the data dir {root}" if root is not None else f"no data dir (--data-dir / {DATA_ENV} unset)"
    return (
        f"corpus {spec.name!r} ({spec.file}) not found: looked in {where} and the cache {cached.parent}, "
        f"and downloading is off. Fix: point --data-dir (or {DATA_ENV}) at a folder holding "
        f"{spec.file}, or allow the download from {spec.url}."
    )


def _download(spec: CorpusSpec, dest: Path) -> Path:
    """Download ``spec.url`` into ``dest`` atomically, verifying before the rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{spec.file}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch_into(spec, out)
        _verify(
            tmp, spec, fix=f"Fix: retry later, or download {spec.url} by hand and point --data-dir at it."
        )
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest


def _fetch_into(spec: CorpusSpec, out: Any) -> None:
    try:
        with urllib.request.urlopen(spec.url, timeout=60) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        raise CorpusError(
            f"could not download corpus {spec.name!r} from {spec.url}: {exc}. "
            f"Fix: check the network, or fetch {spec.file} by hand and point --data-dir "
            f"(or {DATA_ENV}) at its folder."
        ) from exc


def load_jay_lyrics(*, data_dir: str | os.PathLike[str] | None = None) -> str:
    """Return the book's Jay Chou lyrics corpus (d2l-zh v1, ``load_data_jay_lyrics``).

    The zip member decoded as UTF-8, ``\\n`` and ``\\r`` replaced by a space, the first
    10,000 characters (1,027 distinct).
    """
    spec = corpus_spec("jaychou_lyrics")
    with zipfile.ZipFile(corpus_path(spec.name, data_dir=data_dir)) as archive:
        corpus_chars = archive.read(spec.member or "jaychou_lyrics.txt").decode("utf-8")
    corpus_chars = corpus_chars.replace("\n", " ").replace("\r", " ")
    return corpus_chars[:10000]


def load_time_machine(
    *, data_dir: str | os.PathLike[str] | None = None, max_tokens: int | None = 10000
) -> str:
    """Return *The Time Machine* as the 2nd edition tokenises it into characters.

    Per line, every run of non-letters becomes one space, then strip and lower-case;
    the lines are joined without a separator (170,580 characters, 27 distinct).
    ``max_tokens`` keeps the first characters (the book trains on 10,000); None keeps all.
    """
    if max_tokens is not None and not _is_positive_int(max_tokens):
        raise ValueError(f"max_tokens={max_tokens!r} must be a positive integer, or None for the whole text")
    with corpus_path("timemachine", data_dir=data_dir).open(encoding="utf-8") as f:
        lines = f.readlines()
    text = "".join(re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines)
    return text if max_tokens is None else text[:max_tokens]


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


_PREPROCESSING: dict[str, Callable[..., str]] = {
    "d2l_zh_v1_jay_lyrics": load_jay_lyrics,
    "d2l_v2_time_machine_chars": load_time_machine,
}


def load_corpus(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> str:
    """Return corpus ``name`` preprocessed as its manifest entry says (the book's default length)."""
    spec = corpus_spec(name)
    if spec.preprocessing not in _PREPROCESSING:
        raise CorpusError(
            f"corpus {name!r} names preprocessing {spec.preprocessing!r}, which this grader does not "
            f"know (known: {sorted(_PREPROCESSING)}). Fix the manifest {manifest_path()}."
        )
    return _PREPROCESSING[spec.preprocessing](data_dir=data_dir)
