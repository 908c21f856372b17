"""Extract a submission's answer code from a notebook or a ``.py`` file.

Only the autograded-answer cells are taken (found by nbgrader metadata), in
notebook order, never the demos or training runs around them. When metadata was
damaged or cells were merged, a function missing from the answer cells is found
by its ``def`` anywhere in the notebook (only the definition and the cell's
imports are taken). Helpers the answers use but define in ordinary cells are
taken the same way. A broken notebook, a missing function or a syntax error
becomes a problem recorded for the affected parts, never an exception.

Extraction runs in the grader's own process, so what it reads is bounded by size, not by
time (a size bound gives the same verdict on every machine): at most ``MAX_CELL_BYTES`` of
code from one cell and ``MAX_CODE_BYTES`` from the whole submission, answer cells first, and
each cell is parsed once; IPython syntax is transformed in one pass per cell, for at most
``MAX_IPYTHON_BYTES`` of such cells. ``python bench/extract_speed.py`` measures the worst notebooks
the bounds allow: a few seconds each. An answer cell left unread is an error for its part that says why.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Cell", "Extracted", "extract"]

MAX_BYTES = 20 << 20
"""The largest file read at all (a notebook's outputs can be large)."""
MAX_CELL_BYTES = 128 << 10
"""The most code read from one cell: about 3,000 lines; the reference's answer cells are under 3 KiB."""
MAX_CODE_BYTES = 1 << 20
"""The most code read from one submission, answer cells first."""
MAX_IPYTHON_BYTES = 256 << 10
"""The most code of cells with IPython syntax (``%magic``, ``!shell``) that is transformed to Python:
IPython's tokenizer reads about 100 KiB a second. Beyond it, such cells are parsed as they are."""


@dataclass(frozen=True)
class Cell:
    """Code the worker will run, in order."""

    name: str
    """A label for messages and tracebacks: the grade_id, or where the code came from."""
    source: str


@dataclass
class Extracted:
    """What a submission holds, as far as grading is concerned."""

    path: str
    sha256: str
    cells: list[Cell] = field(default_factory=list)
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)
    """function -> (status, message) for functions that cannot be graded."""
    error: str | None = None
    """Set when the file itself could not be read: every part is then ``missing``."""
    untransformed: set[str] = field(default_factory=set)
    """Cells whose IPython syntax was left as it is (beyond ``MAX_IPYTHON_BYTES``)."""
    unread: list[str] = field(default_factory=list)
    """Code cells left unread by the size bounds."""


def extract(path: str | Path, functions: tuple[str, ...]) -> Extracted:
    path = Path(path)
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        return Extracted(str(path), "", error=f"the submission could not be read: {exc.strerror}")
    result = Extracted(str(path), hashlib.sha256(raw).hexdigest())
    if len(raw) > MAX_BYTES:
        result.error = f"the submission is larger than {MAX_BYTES >> 20} MiB"
        return result
    if path.suffix == ".py":  # one cell, under the bound of one cell
        if len(raw) > MAX_CELL_BYTES:
            result.error = f"the submission holds more than {_size(MAX_CELL_BYTES)} of code"
            return result
        cells, others = [("submission.py", _decode(raw), True)], []
    else:
        cells, others, result.error = _notebook_cells(raw)
    if result.error is None:
        cells, others = _within_budget(result, cells, others, functions)
        _collect(result, cells, others, functions)
    return result


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{-(-n >> 10)} KiB"


def _within_budget(result: Extracted, answers: list, others: list,
                   functions: tuple[str, ...]) -> tuple[list, list]:
    """The cells extraction will read: each at most MAX_CELL_BYTES, together at most MAX_CODE_BYTES.

    Answer cells are counted first, so a large demo cell never crowds out an answer. An answer
    cell left out is an error for the part it names; other cells left out are only not searched.
    """
    total, ipython, kept = 0, 0, ([], [])
    for cells, into in ((answers, kept[0]), (others, kept[1])):
        for name, source, is_answer in cells:
            size = len(source.encode("utf-8", errors="replace"))
            if size > MAX_CELL_BYTES:
                why = (f"cell `{name}` holds {_size(size)} of code, more than the {_size(MAX_CELL_BYTES)} "
                       "the grader reads from one cell: remove pasted data or printed output from it")
            elif total + size > MAX_CODE_BYTES:
                why = (f"the notebook holds more than {_size(MAX_CODE_BYTES)} of code and cell `{name}` lies "
                       "beyond it, so it was not read: remove pasted data or printed output "
                       "from the notebook")
            else:
                total += size
                if _IPYTHON_SYNTAX.search(source):
                    ipython += size
                    if ipython <= MAX_IPYTHON_BYTES:
                        source = _python(source)
                    else:
                        result.untransformed.add(name)
                into.append((name, source, is_answer))
                continue
            result.unread.append(name)
            if is_answer and name in functions:
                result.problems.setdefault(name, ("error", why))
    return kept


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _notebook_cells(raw: bytes) -> tuple[list, list, str | None]:
    """(answer cells, other code cells, error): each cell is (name, source, is_answer)."""
    try:
        nb = json.loads(_decode(raw))
    except (ValueError, RecursionError) as exc:
        return [], [], (f"the notebook is not valid JSON ({str(exc)[:200]}); "
                        "re-download it or restore a checkpoint")
    raw_cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(raw_cells, list):
        return [], [], "the file is not a Jupyter notebook (it has no list of cells)"
    answers, others = [], []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        is_answer = bool(meta.get("solution")) and not meta.get("grade")
        name = str(meta.get("grade_id") or f"cell {index + 1}")[:80]
        (answers if is_answer else others).append((name, source, is_answer))
    return answers, others, None


_IPYTHON_SYNTAX = re.compile(r"^[ \t]*[%!?]|=[ \t]*[%!]|\?[ \t]*$", re.MULTILINE)
"""Where IPython's transformers could apply: an escape opening a line, ``x = %magic``, ``obj?``."""


def _python(source: str) -> str:
    """Turn IPython syntax (magics, ``!shell``, ``obj?``) into plain Python, in time linear in the cell."""
    try:
        transformer = _transformer()
    except ImportError:
        return source
    try:
        return transformer.transform_cell(source)
    except Exception:  # IPython's transformer can fail on odd input; the parse below reports it
        return source


@functools.cache
def _transformer():
    """IPython's ``TransformerManager`` with its token transforms done in one pass.

    IPython re-tokenizes the whole cell after each piece of special syntax it rewrites: a cell of
    thousands of ``%`` lines costs thousands of tokenizations (minutes for one 128 KiB cell). Here
    the cell is tokenized once, each logical line is matched by IPython's own transformers, and
    the rewrites are applied from the last line up, so the line numbers of those still to come hold.
    For ordinary cells the result is IPython's (a test compares the two).
    """
    from IPython.core.inputtransformer2 import TokenTransformBase, TransformerManager, make_tokens_by_line

    class OnePass(TransformerManager):
        def do_token_transforms(self, lines: list[str]) -> list[str]:
            found = []
            for line in make_tokens_by_line(lines):
                candidates = [t for cls in self.token_transformers if (t := cls.find([line]))]
                if candidates:
                    found.append(sorted(candidates, key=TokenTransformBase.sortby))
            for candidates in reversed(found):
                for transformer in candidates:
                    try:
                        lines = transformer.transform(lines)
                        break
                    except SyntaxError:
                        continue
            return lines

    return OnePass()


def _collect(result: Extracted, answers: list, others: list, functions: tuple[str, ...]) -> None:
    parse = _Parser()
    defined: set[str] = set()
    for name, source, _ in answers:
        tree = parse(source)
        if isinstance(tree, SyntaxError):
            _syntax_problem(result, name, tree, functions)
            continue
        result.cells.append(Cell(name, source))
        defined |= _top_level_names(tree)
    for fn in functions:
        if fn not in defined and fn not in result.problems:
            found = _find_elsewhere(fn, others, parse)
            if found:
                result.cells.append(found)
                defined.add(fn)
            else:
                result.problems[fn] = ("missing", _missing_message(fn, answers, result.unread))
    _add_helpers(result, others, defined, parse)


class _Parser:
    """``ast.parse`` that parses each distinct source once per submission; errors are returned."""

    def __init__(self) -> None:
        self._trees: dict[str, ast.Module | SyntaxError] = {}

    def __call__(self, source: str) -> ast.Module | SyntaxError:
        if source not in self._trees:
            self._trees[source] = _parse(source)
        return self._trees[source]


def _parse(source: str) -> ast.Module | SyntaxError:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        return exc
    except (ValueError, RecursionError, MemoryError) as exc:
        return SyntaxError(str(exc)[:200])


def _syntax_problem(result: Extracted, cell: str, exc: SyntaxError, functions: tuple[str, ...]) -> None:
    where = f"line {exc.lineno}: " if exc.lineno else ""
    text = (exc.text or "").strip()[:120]
    message = f"syntax error in cell `{cell}`, {where}{exc.msg}" + (f" (`{text}`)" if text else "")
    if cell in result.untransformed:
        message += ("; its IPython syntax (`%`, `!`) was not turned into Python: the notebook holds more "
                    f"than {_size(MAX_IPYTHON_BYTES)} of code in cells with IPython syntax")
    if cell in functions:
        result.problems[cell] = ("error", message)


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _missing_message(fn: str, answers: list, unread: list[str]) -> str:
    if any(name == fn for name, _, _ in answers):
        return f"the answer cell `{fn}` does not define a function named `{fn}` (was it renamed?)"
    message = f"no function named `{fn}` was found in the notebook"
    if unread:
        cells = ", ".join(f"`{name}`" for name in unread[:5]) + (" and more" if len(unread) > 5 else "")
        message += f" (cells {cells} were too large to read: remove pasted data or printed output from them)"
    return message


def _find_elsewhere(fn: str, others: list, parse: _Parser) -> Cell | None:
    """The definition of `fn` from any other code cell, with that cell's imports."""
    for name, source, _ in others:
        tree = parse(source)
        if isinstance(tree, SyntaxError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn:
                return Cell(f"{fn} (found in {name})", _with_imports(source, tree, [node]))
    return None


def _with_imports(source: str, tree: ast.Module, nodes: list) -> str:
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n\n".join(_segments(source, imports + nodes))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _segments(source: str, nodes: list) -> list[str]:
    """``ast.get_source_segment`` for many nodes of one source, splitting it into lines once.

    The standard function splits the whole source on every call, which is quadratic for a cell
    of thousands of definitions; lines are split as the parser does (``\r\n``, ``\r``, ``\n``) and
    column offsets count UTF-8 bytes.
    """
    lines = [line.encode() for line in _LINE.findall(source)]
    out = []
    for node in nodes:
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            out.append(lines[first][node.col_offset:node.end_col_offset].decode())
        else:
            body = [lines[first][node.col_offset:], *lines[first + 1:last], lines[last][:node.end_col_offset]]
            out.append(b"".join(body).decode())
    return out


def _add_helpers(result: Extracted, others: list, defined: set[str], parse: _Parser) -> None:
    """Bring in definitions (never calls) that the answers need from ordinary cells."""
    from grader.exercises import SETUP_CODE

    known = defined | _top_level_names(ast.parse(SETUP_CODE)) | set(dir(builtins))
    wanted = _free_names(result.cells, parse) - known
    for name, source, _ in others:
        if not wanted:
            return
        tree = parse(source)
        if isinstance(tree, SyntaxError):
            continue
        nodes = [n for n in tree.body if _defines(n) & wanted and not _calls_at_top(n)]
        if nodes:
            result.cells.append(Cell(f"helpers from {name}", _with_imports(source, tree, nodes)))
            for n in nodes:
                wanted -= _defines(n)


def _free_names(cells: list[Cell], parse: _Parser) -> set[str]:
    names: set[str] = set()
    for cell in cells:
        tree = parse(cell.source)
        if not isinstance(tree, SyntaxError):
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return names


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()


def _calls_at_top(node: ast.stmt) -> bool:
    """An assignment whose value calls something could run a demo: leave it out."""
    return isinstance(node, ast.Assign) and any(isinstance(n, ast.Call) for n in ast.walk(node.value))
