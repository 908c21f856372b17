"""Feedback pages: the score table, messages, counterexamples and training extras; nothing hidden."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.api import grade_notebook
from grader.feedback import curve_svg, feedback_path, render_feedback, write_feedback
from tests.helpers import build_submission
from tests.reports.factories import SAMPLE, record

ROOT = Path(__file__).resolve().parents[2]
HIDDEN_DEFS = re.findall(r"^\s*(def \w+\()", (ROOT / "solutions" / "hidden.py").read_text(encoding="utf-8"),
                         flags=re.M)


def _bob():
    lost = {"rnn_2layer": "H2 ignores W_hh2", "train_rnn_2layer": "perplexity 9.1 > 4.53"}
    return record("bob", lost=lost,
                  counterexample="inputs=[tensor([[1.]])], state=(H1, H2)")


def test_page_has_the_table_messages_counterexample_and_sample():
    page = render_feedback(_bob())
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert '<table class="scores">' in page and "Score: 3 / 9" in page
    for part in ("get_params_2layer", "init_rnn_state_2layer", "rnn_2layer", "train_rnn_2layer"):
        assert f'<section id="{part}">' in page
    assert "H2 ignores W_hh2" in page and "perplexity 9.1 &gt; 4.53" in page
    assert "inputs=[tensor([[1.]])], state=(H1, H2)" in page
    assert SAMPLE in page and "想要有直升机" in page
    assert "<svg" in page and "threshold 4.53" in page


def test_everything_is_escaped():
    r = _bob()
    r.parts[2] = dataclasses.replace(r.parts[2], message="<script>alert(1)</script>",
                                     counterexample="a<b & c")
    page = render_feedback(dataclasses.replace(r, student="<img src=x>"))
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a&lt;b &amp; c" in page


def test_written_where_release_feedback_looks_with_nbgrader_files(tmp_path):
    submitted = tmp_path / "submitted" / "bob" / "rnn_deep"
    submitted.mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2025-01-01 00:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("s3cret")
    path = write_feedback(_bob(), tmp_path)
    assert path == tmp_path / "feedback" / "bob" / "rnn_deep" / "rnn_deep.html"
    assert path == feedback_path(_bob(), tmp_path)
    assert "想要有直升机" in path.read_text(encoding="utf-8")
    assert (path.parent / "submission_secret.txt").read_text() == "s3cret"
    assert (path.parent / "timestamp.txt").is_file()


def test_curve_svg_skips_nan_and_handles_one_epoch():
    assert "<polyline" in curve_svg([5.0]) and "<polyline" in curve_svg([float("nan"), 3.0, 2.0], threshold=4)
    assert curve_svg([float("nan")]) == ""


def test_a_really_graded_buggy_submission_shows_no_hidden_check_code(tmp_path):
    submission = build_submission("bug_rnn2_drops_whh2", tmp_path)
    graded = grade_notebook(submission, assignment="rnn_deep", solutions=ROOT / "solutions", student="carol")
    page = write_feedback(graded, tmp_path / "course").read_text(encoding="utf-8")
    assert "rnn_2layer" in page and graded.parts[2].message and graded.parts[2].status == "failed"
    assert HIDDEN_DEFS and not [d for d in HIDDEN_DEFS if d in page]
    assert "def " not in page and "solutions/" not in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, png: Path, *, width: int = 1000, height: int = 1400) -> Path:
    """Render `page` with headless chromium into `png`."""
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_renders_in_headless_chromium(tmp_path):
    png = screenshot(write_feedback(_bob(), tmp_path), tmp_path / "feedback.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
