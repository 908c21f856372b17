"""Malformed notebooks for the fuzzer: hypothesis strategies that mutate a valid submission.

A case is a list of mutations applied to the course's filled-in ``rnn_scratch`` notebook, first
on its JSON structure (cells deleted, duplicated, retyped, stripped of or sharing grade_ids,
enormous sources, megabyte outputs, a wrong nbformat, values of the wrong type), then possibly
on its bytes (truncated, garbage spliced in, not UTF-8, replaced outright). :func:`record_problems`
says what is wrong with the record the grader made of it; a valid record has every part of the
assignment with a status and, when not passed, a message, and no trace of a grader failure.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import strategies as st

from tests.helpers import ROOT

BASE = ROOT / "assignments" / "source" / "rnn_scratch" / "rnn_scratch.ipynb"
JUNK = st.one_of(st.none(), st.integers(-3, 10**6), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.booleans(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def base_notebook() -> dict:
    return json.loads(BASE.read_text(encoding="utf-8"))


def _cell_index(draw, nb: dict) -> int | None:
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list) or not cells:
        return None
    return draw(st.integers(0, len(cells) - 1))


def _on_cell(change):
    """A mutation of one random cell (a dict); a no-op where there is none."""

    def mutate(draw, nb):
        i = _cell_index(draw, nb)
        if i is not None and isinstance(nb["cells"][i], dict):
            change(draw, nb, nb["cells"][i])
        return nb

    return mutate


def _nbgrader(cell: dict) -> dict:
    meta = cell.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return {}
    grader = meta.setdefault("nbgrader", {})
    return grader if isinstance(grader, dict) else {}


def _wrong_nbformat(draw, nb):
    nb[draw(st.sampled_from(["nbformat", "nbformat_minor"]))] = draw(JUNK)
    return nb


def _delete_cell(draw, nb):
    i = _cell_index(draw, nb)
    if i is not None:
        del nb["cells"][i]
    return nb


def _duplicate_cell(draw, nb):
    i = _cell_index(draw, nb)
    if i is not None:
        nb["cells"].insert(draw(st.integers(0, len(nb["cells"]))), copy.deepcopy(nb["cells"][i]))
    return nb


def _shuffle_cells(draw, nb):
    if isinstance(nb.get("cells"), list):
        nb["cells"] = draw(st.permutations(nb["cells"]))
    return nb


def _clash_grade_id(draw, nb):
    ids = [_nbgrader(c).get("grade_id") for c in nb.get("cells", []) if isinstance(c, dict)]
    ids = [i for i in ids if i]
    if ids:
        _on_cell(lambda d, n, cell: _nbgrader(cell).update(grade_id=d(st.sampled_from(ids))))(draw, nb)
    return nb


def _set_source(strategy):
    return _on_cell(lambda draw, nb, cell: cell.update(source=draw(strategy)))


def _enormous_source(draw, nb):
    lines = draw(st.integers(10_000, 150_000))
    return _set_source(st.just("x = 1\n" * lines))(draw, nb)


def _megabyte_output(draw, nb):
    size = draw(st.integers(1, 3)) << 20
    output = {"output_type": "stream", "name": "stdout", "text": "x" * size}
    return _on_cell(lambda d, n, cell: cell.update(outputs=[output]))(draw, nb)


def _syntax_error(draw, nb):
    broken = draw(st.sampled_from(["def (", "\tx = [", "return 1", "import ", "'''", "\x00"]))
    append = _on_cell(lambda d, n, cell: cell.update(source=_text(cell.get("source")) + "\n" + broken))
    return append(draw, nb)


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _replace_value(draw, nb):
    """Something of the wrong type where a cell, its metadata, its source or the cell list should be."""
    where = draw(st.sampled_from(["cell", "metadata", "nbgrader", "source", "cell_type", "cells",
                                  "metadata_top"]))
    junk = draw(JUNK)
    if where == "cells":
        nb["cells"] = junk
    elif where == "metadata_top":
        nb["metadata"] = junk
    elif where == "cell":
        i = _cell_index(draw, nb)
        if i is not None:
            nb["cells"][i] = junk
    else:
        key = {"nbgrader": "metadata"}.get(where, where)
        value = {"nbgrader": junk} if where == "nbgrader" else junk
        _on_cell(lambda d, n, cell: cell.update({key: value}))(draw, nb)
    return nb


STRUCTURE = {
    "wrong nbformat": _wrong_nbformat,
    "deleted cell": _delete_cell,
    "duplicated cell": _duplicate_cell,
    "shuffled cells": _shuffle_cells,
    "missing grade_id": _on_cell(lambda d, n, cell: _nbgrader(cell).pop("grade_id", None)),
    "duplicated grade_id": _clash_grade_id,
    "no nbgrader metadata": _on_cell(lambda d, n, cell: cell.get("metadata", {}).pop("nbgrader", None)
                                     if isinstance(cell.get("metadata"), dict) else None),
    "wrong cell type": _on_cell(lambda d, n, cell: cell.update(
        cell_type=d(st.sampled_from(["markdown", "raw", "code", "", "heading", 7, None])))),
    "answer flag flipped": _on_cell(lambda d, n, cell: _nbgrader(cell).update(
        solution=d(st.booleans()), grade=d(st.booleans()))),
    "text source": _set_source(st.text(max_size=200)),
    "source list of junk": _set_source(st.lists(JUNK, max_size=5)),
    "enormous cell": _enormous_source,
    "megabyte output": _megabyte_output,
    "syntax error": _syntax_error,
    "wrong type": _replace_value,
}


def _bytes_of(draw, nb) -> tuple[str, bytes]:
    text = json.dumps(nb, ensure_ascii=False)
    kind = draw(st.sampled_from(["none", "none", "none", "truncated", "garbage spliced", "latin-1", "utf-16",
                                 "binary garbage", "empty"]))
    if kind == "none":
        return kind, text.encode("utf-8", errors="surrogatepass")
    data = text.encode("utf-8", errors="surrogatepass")
    if kind == "truncated":
        return kind, data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "garbage spliced":
        at = draw(st.integers(0, len(data)))
        return kind, data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if kind == "latin-1":  # not UTF-8: accented text saved in a legacy encoding
        return kind, text.replace("the ", "thé ").encode("latin-1", errors="replace")
    if kind == "utf-16":
        return kind, text.encode("utf-16", errors="surrogatepass")
    if kind == "binary garbage":
        return kind, draw(st.binary(max_size=4096))
    return kind, b""


@st.composite
def mutated_notebooks(draw, *, base: dict | None = None, max_mutations: int = 3) -> tuple[list[str], bytes]:
    """(the mutations applied, the notebook's bytes)."""
    nb = copy.deepcopy(base if base is not None else base_notebook())
    steps = []
    for _ in range(draw(st.integers(1, max_mutations))):
        name = draw(st.sampled_from(sorted(STRUCTURE)))
        steps.append(name)
        if isinstance(nb, dict):
            nb = STRUCTURE[name](draw, nb)
    kind, data = _bytes_of(draw, nb)
    if kind != "none":
        steps.append(kind)
    return steps, data


GRADER_FAULTS = ("the grader failed", "the sandbox worker could not start", "No module named 'grader")
"""Messages that blame the grader, not the submission: a record holding one is a crash."""


def record_problems(record, assignment, *, training: bool) -> list[str]:
    """What makes `record` invalid; empty when it is a complete, valid record.

    `training`: whether the grading included the training parts (then they must be in the record).
    """
    import tempfile

    from grader.record import STATUSES, load_record, write_record

    problems = [f"the grader failed: {record.error}"] if record.error else []
    if [p.name for p in record.parts] != [p.name for p in assignment.parts if training or not p.training]:
        problems.append(f"parts {[p.name for p in record.parts]} are not the assignment's")
    for part in record.parts:
        if part.status not in STATUSES:
            problems.append(f"{part.name}: unknown status {part.status!r}")
        if part.status != "passed" and not part.message.strip():
            problems.append(f"{part.name}: {part.status} without a message")
        if any(sign in part.message for sign in GRADER_FAULTS):
            problems.append(f"{part.name}: {part.message[:300]}")
        if not 0 <= part.points <= part.max_points:
            problems.append(f"{part.name}: {part.points} points of {part.max_points}")
    with tempfile.TemporaryDirectory() as tmp:
        if load_record(write_record(record, Path(tmp) / "r.json")) != record:
            problems.append("the record does not read back as written")
    return problems
