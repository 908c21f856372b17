"""One self-contained HTML feedback page per student and assignment, from a record.

The page shows what the record says the student may see: the score table, each part's
status and message, the smallest counterexample, and for a training part its perplexity
curve (inline SVG, no scripts, no external files) and the greedy sample text. It never
shows solutions or hidden checks: only record fields are rendered, every one escaped.

Pages go where ``nbgrader release_feedback`` looks for them:
``<course>/feedback/<student>/<assignment>/<assignment>.html``.
"""

from __future__ import annotations

import html
import math
import shutil
from pathlib import Path

from grader.export import student_id, write_text_atomic
from grader.record import PartResult, Record

__all__ = ["curve_svg", "feedback_path", "render_feedback", "write_feedback", "write_feedback_pages"]

_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#8250df", "timeout": "#9a6700",
            "forbidden": "#cf222e", "missing": "#6e7781"}
_NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")
"""What ``release_feedback`` reads beside each page; copied from the student's submission."""

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.status { font-weight: 600; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
section { border-top: 1px solid #d0d7de; margin-top: 1.5rem; }
.meta { color: #57606a; font-size: .9rem; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def feedback_path(record: Record, course_dir: str | Path, *, feedback_directory: str = "feedback") -> Path:
    """``<course>/feedback/<student>/<assignment>/<assignment>.html``: nbgrader's layout."""
    return Path(course_dir) / feedback_directory / student_id(record) / record.assignment / (
        f"{record.assignment}.html")


def write_feedback(record: Record, course_dir: str | Path, *, feedback_directory: str = "feedback") -> Path:
    """Write the record's page (UTF-8, atomically) where ``nbgrader release_feedback`` picks it up.

    ``release_feedback`` also reads ``timestamp.txt`` and ``submission_secret.txt`` beside the page;
    they are copied from ``autograded/`` or ``submitted/`` of the same student when the course has them.
    """
    path = write_text_atomic(feedback_path(record, course_dir, feedback_directory=feedback_directory),
                         render_feedback(record))
    _copy_submission_files(record, Path(course_dir), path.parent)
    return path


def _copy_submission_files(record: Record, course: Path, dest: Path) -> None:
    for step in ("autograded", "submitted"):
        source = course / step / student_id(record) / record.assignment
        if all((source / name).is_file() for name in _NBGRADER_FILES):
            for name in _NBGRADER_FILES:
                shutil.copyfile(source / name, dest / name)
            return


def render_feedback(record: Record) -> str:
    """The whole page as a string: head, summary, score table, one section per part."""
    title = f"{record.assignment}: {student_id(record)}"
    body = [f"<h1>{_e(title)}</h1>", _summary(record), _score_table(record)]
    body += [_part_section(p) for p in record.parts]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _summary(record: Record) -> str:
    lines = [f"<p><strong>Score: {record.score:g} / {record.max_score:g}</strong></p>",
             f"<p class=\"meta\">graded {_e(record.started)} by rnn-autograder {_e(record.grader_version)} "
             f"({_e(record.mode)} checks, seed {record.seed}, device {_e(record.device)})</p>"]
    if record.error:
        lines.append(f"<p>The grader could not finish: {_e(record.error)}</p>")
    return "\n".join(lines)


def _status(status: str) -> str:
    colour = _COLOURS.get(status, "#1f2328")
    return f"<span class=\"status\" style=\"color:{colour}\">{_e(status)}</span>"


def _score_table(record: Record) -> str:
    rows = "".join(
        f"<tr><td><a href=\"#{_e(p.name)}\">{_e(p.name)}</a></td><td>{p.points:g} / {p.max_points:g}</td>"
        f"<td>{_status(p.status)}</td><td>{_e(p.message)}</td></tr>\n" for p in record.parts)
    return ("<table class=\"scores\">\n<thead><tr><th>part</th><th>points</th><th>status</th>"
            f"<th>message</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>")


def _part_section(part: PartResult) -> str:
    out = [f"<section id=\"{_e(part.name)}\">", f"<h2>{_e(part.name)}: {_status(part.status)} "
           f"({part.points:g} / {part.max_points:g})</h2>"]
    if part.message:
        out.append(f"<p>{_e(part.message)}</p>")
    if part.counterexample:
        out.append(f"<p>The smallest input it fails on:</p>\n<pre>{_e(part.counterexample)}</pre>")
    out += [_check_line(c) for c in part.checks if c.status != "passed" and c.message
            and c.message != part.message]
    out.append(_training(part.extras))
    out.append("</section>")
    return "\n".join(x for x in out if x)


def _check_line(check) -> str:
    where = " (instructor's check)" if check.hidden else ""
    return f"<p>{_e(check.name)}{where}: {_status(check.status)}: {_e(check.message)}</p>"


def _training(extras: dict) -> str:
    """Perplexity, threshold, curve and sample of a training part; empty for other parts."""
    out = []
    if isinstance(extras.get("perplexity"), (int, float)):
        limit = extras.get("threshold")
        against = f" (threshold {limit:g})" if isinstance(limit, (int, float)) else ""
        out.append(f"<p>Held-out perplexity: {extras['perplexity']:g}{against}</p>")
    curve = [v for v in extras.get("curve") or [] if isinstance(v, (int, float))]
    if curve:
        out.append(curve_svg(curve, threshold=extras.get("threshold")))
    if isinstance(extras.get("sample"), str):
        out.append(f"<p>Text your trained model writes (greedy):</p>\n<pre>{_e(extras['sample'])}</pre>")
    return "\n".join(out)


def curve_svg(curve: list[float], *, threshold: float | None = None, width: int = 480,
              height: int = 240) -> str:
    """The training perplexity per epoch as an inline SVG on a log scale, threshold dashed."""
    points = [(i + 1, v) for i, v in enumerate(curve) if math.isfinite(v) and v > 0]
    if not points:
        return ""
    limit = float(threshold) if isinstance(threshold, (int, float)) and threshold > 0 else None
    ys = [v for _, v in points] + ([limit] if limit is not None else [])
    lo, hi = math.log(min(ys)), math.log(max(ys))
    pad, n = 40, max(len(curve), 2)

    def x(epoch: float) -> float:
        return pad + (epoch - 1) / (n - 1) * (width - 2 * pad)

    def y(value: float) -> float:
        return height - pad - (math.log(value) - lo) / ((hi - lo) or 1.0) * (height - 2 * pad)

    line = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in points)
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
             f"role=\"img\" aria-label=\"training perplexity per epoch\">",
             f"<rect width=\"{width}\" height=\"{height}\" fill=\"#fff\" stroke=\"#d0d7de\"/>",
             f"<polyline points=\"{line}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/>"]
    if limit is not None:
        ty = y(limit)
        parts.append(f"<line x1=\"{pad}\" x2=\"{width - pad}\" y1=\"{ty:.1f}\" y2=\"{ty:.1f}\" "
                     "stroke=\"#cf222e\" stroke-dasharray=\"6 4\"/>")
        parts.append(f"<text x=\"{width - pad}\" y=\"{ty - 4:.1f}\" text-anchor=\"end\" font-size=\"11\" "
                     f"fill=\"#cf222e\">threshold {limit:g}</text>")
    parts += [_axis_labels(width, height, pad, n, math.exp(lo), math.exp(hi)), "</svg>"]
    return "\n".join(parts)


def _axis_labels(width: int, height: int, pad: int, n: int, lo: float, hi: float) -> str:
    text = "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"{}\" fill=\"#57606a\">{}</text>"
    return "\n".join([
        text.format(pad - 4, pad + 4, "end", f"{hi:.3g}"),
        text.format(pad - 4, height - pad, "end", f"{lo:.3g}"),
        text.format(pad, height - pad + 16, "start", "epoch 1"),
        text.format(width - pad, height - pad + 16, "end", f"epoch {n}"),
        text.format(width / 2, height - 8, "middle", "training perplexity (log scale) per epoch"),
    ])


def write_feedback_pages(records_dir: str | Path, course_dir: str | Path, *,
                         feedback_directory: str = "feedback") -> list[Path]:
    """One page per record in `records_dir`, under `course_dir`; the pages' paths, in record order."""
    from grader.export import load_records

    return [write_feedback(r, course_dir, feedback_directory=feedback_directory)
            for r in load_records(records_dir)]
