"""The corpus loader: manifest, lookup order, sha256 verification, download, the book's preprocessing."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grader.errors import ConfigError
from grader.training import corpora
from grader.training.corpora import (
    CorpusError,
    cache_dir,
    corpus_path,
    corpus_spec,
    load_corpus,
    load_jay_lyrics,
    load_manifest,
    load_time_machine,
    resolve_data_dir,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RNN_GRADER_DATA") or REPO.parent / "shared" / "datasets")
JAY_SHA256 = "3cfedd7d174111cdad5a27eaffaa6a2432a2842cf2590a03dd8a97610ea07043"
TIME_MACHINE_SHA256 = "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516"
JAY_10K_SHA256 = "b054e3e41c43ca4694807907e8ba39588da9e0ac4f24d28655bccedb526753cf"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test reads the real user cache, the caller's data dir or the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(corpora.DATA_ENV, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def serve(monkeypatch, payload: bytes, calls: list[str] | None = None) -> None:
    """Make ``urlopen`` answer every URL with ``payload`` (and record the URLs asked)."""

    def fake_urlopen(url, timeout=None):
        if calls is not None:
            calls.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)


# -- the manifest --------------------------------------------------------------------------------


def test_repository_manifest_is_a_byte_identical_copy_of_the_packaged_one():
    packaged = corpora.manifest_path()
    assert packaged == REPO / "grader" / "data" / "corpora.json"
    assert (REPO / "datasets" / "manifest.json").read_bytes() == packaged.read_bytes()


def test_datasets_folder_holds_no_python():
    assert not [p for p in (REPO / "datasets").rglob("*") if p.suffix in {".py", ".pyc", ".pyi"}]


def test_manifest_pins_the_shared_files():
    for spec_name, sha in [("jaychou_lyrics", JAY_SHA256), ("timemachine", TIME_MACHINE_SHA256)]:
        spec = corpus_spec(spec_name)
        path = SHARED / spec.file
        assert spec.sha256 == sha == hashlib.sha256(path.read_bytes()).hexdigest()
        assert spec.bytes == path.stat().st_size
        assert spec.url.startswith(("https://", "http://"))


def test_manifest_urls_are_the_canonical_ones():
    assert corpus_spec("jaychou_lyrics").url == (
        "https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1/data/jaychou_lyrics.txt.zip"
    )
    assert corpus_spec("timemachine").url == "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"


def test_every_manifest_preprocessing_is_known():
    for entry in load_manifest()["corpora"]:
        assert entry["preprocessing"] in corpora._PREPROCESSING


def test_load_manifest_returns_a_fresh_copy():
    load_manifest()["corpora"].clear()
    assert load_manifest()["corpora"]


def test_unknown_corpus_lists_the_known_ones():
    with pytest.raises(CorpusError, match=r"unknown corpus 'ptb'.*jaychou_lyrics.*timemachine"):
        corpus_spec("ptb")


def test_corpus_error_is_a_config_error():
    assert issubclass(CorpusError, ConfigError)


# -- where files are looked for ------------------------------------------------------------------


def test_resolve_data_dir_prefers_the_argument_then_the_environment(monkeypatch, tmp_path):
    assert resolve_data_dir() is None
    monkeypatch.setenv(corpora.DATA_ENV, str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    assert cache_dir() == tmp_path / "xdg-cache" / "rnn-autograder"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "rnn-autograder"


def test_corpus_path_finds_a_file_in_the_data_dir():
    assert corpus_path("timemachine", data_dir=SHARED, download=False) == SHARED / "timemachine.txt"


def test_corpus_path_accepts_the_file_itself():
    path = SHARED / "jaychou_lyrics.txt.zip"
    assert corpus_path("jaychou_lyrics", data_dir=path, download=False) == path


def test_corpus_path_reads_the_environment(monkeypatch):
    monkeypatch.setenv(corpora.DATA_ENV, str(SHARED))
    assert corpus_path("timemachine", download=False) == SHARED / "timemachine.txt"


def test_corpus_path_falls_back_to_the_cache(tmp_path):
    cached = cache_dir() / "timemachine.txt"
    cached.parent.mkdir(parents=True)
    shutil.copyfile(SHARED / "timemachine.txt", cached)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert corpus_path("timemachine", data_dir=empty, download=False) == cached
    assert corpus_path("timemachine", data_dir=tmp_path / "missing", download=False) == cached


def test_missing_corpus_without_download_says_where_it_looked(tmp_path):
    with pytest.raises(CorpusError) as info:
        corpus_path("timemachine", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "timemachine.txt" in message and str(tmp_path) in message and "--data-dir" in message


# -- verification ----------------------------------------------------------------------------------


def truncated_copy(tmp_path: Path, name: str = "timemachine.txt") -> Path:
    bad = tmp_path / "bad" / name
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes((SHARED / name).read_bytes()[:1000])
    return bad


def test_truncated_file_in_the_data_dir_is_an_error_naming_both_hashes(tmp_path):
    bad = truncated_copy(tmp_path)
    with pytest.raises(CorpusError) as info:
        corpus_path("timemachine", data_dir=bad.parent, download=False)
    message = str(info.value)
    actual = hashlib.sha256(bad.read_bytes()).hexdigest()
    for fragment in (str(bad), TIME_MACHINE_SHA256, actual, "1,000 bytes", "--data-dir"):
        assert fragment in message


def test_wrong_file_given_directly_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="expected sha256 " + JAY_SHA256):
        corpus_path("jaychou_lyrics", data_dir=SHARED / "timemachine.txt", download=False)


def test_corrupt_cache_is_an_error_that_says_to_delete_it(tmp_path):
    cached = cache_dir() / "timemachine.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the time machine")
    with pytest.raises(CorpusError, match=r"(?s)delete .*timemachine\.txt"):
        corpus_path("timemachine", download=True)


def test_verification_runs_on_every_call(tmp_path):
    good = tmp_path / "timemachine.txt"
    shutil.copyfile(SHARED / "timemachine.txt", good)
    assert corpus_path("timemachine", data_dir=tmp_path, download=False) == good
    with good.open("ab") as f:
        f.write(b"!")
    with pytest.raises(CorpusError):
        corpus_path("timemachine", data_dir=tmp_path, download=False)


# -- download -------------------------------------------------------------------------------------


def test_download_lands_verified_in_the_cache(monkeypatch):
    calls: list[str] = []
    serve(monkeypatch, (SHARED / "timemachine.txt").read_bytes(), calls)
    path = corpus_path("timemachine")
    assert path == cache_dir() / "timemachine.txt"
    assert calls == [corpus_spec("timemachine").url]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == TIME_MACHINE_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == ["timemachine.txt"]
    assert corpus_path("timemachine") == path and len(calls) == 1  # cached: no second download


def test_bad_download_leaves_nothing_in_the_cache(monkeypatch):
    serve(monkeypatch, (SHARED / "timemachine.txt").read_bytes()[:5000])
    with pytest.raises(CorpusError, match=TIME_MACHINE_SHA256):
        corpus_path("timemachine")
    assert list(cache_dir().iterdir()) == []


def test_network_failure_is_a_corpus_error(monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(CorpusError, match=r"could not download corpus 'timemachine'.*no route to host"):
        corpus_path("timemachine")
    assert list(cache_dir().iterdir()) == []


# -- the book's preprocessing ----------------------------------------------------------------------


def test_jay_lyrics_matches_the_book():
    corpus_chars = load_jay_lyrics(data_dir=SHARED)
    assert len(corpus_chars) == 10000
    assert len(set(corpus_chars)) == 1027
    assert "\n" not in corpus_chars and "\r" not in corpus_chars
    assert corpus_chars.startswith("想要有直升机 想要和你飞到宇宙去 想要和")
    assert hashlib.sha256(corpus_chars.encode("utf-8")).hexdigest() == JAY_10K_SHA256


def test_time_machine_matches_the_second_edition():
    text = load_time_machine(data_dir=SHARED, max_tokens=None)
    assert len(text) == 170580
    assert set(text) == set("abcdefghijklmnopqrstuvwxyz ")
    assert text.startswith("the time machine by h g wells")
    assert load_time_machine(data_dir=SHARED) == text[:10000]
    assert load_time_machine(data_dir=SHARED, max_tokens=35) == text[:35]


@pytest.mark.parametrize("max_tokens", [0, -1, 2.5, True])
def test_time_machine_rejects_a_bad_max_tokens(max_tokens):
    with pytest.raises(ValueError, match=rf"max_tokens={max_tokens!r} must be a positive integer"):
        load_time_machine(data_dir=SHARED, max_tokens=max_tokens)


def test_load_corpus_applies_the_manifest_preprocessing():
    assert load_corpus("jaychou_lyrics", data_dir=SHARED) == load_jay_lyrics(data_dir=SHARED)
    assert load_corpus("timemachine", data_dir=SHARED) == load_time_machine(data_dir=SHARED)
