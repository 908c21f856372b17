"""Scratch folders for workers and grade cells, and the sweep of those a killed grader left behind.

A grader removes its scratch folders when it closes them, but a grader killed with SIGKILL
(or a machine that lost power) cannot. Each folder's name therefore says which process made
it: ``rnn-grader-<kind>-<pid>.<start>-<random>``, where ``<start>`` is the process's start time
in clock ticks since boot (``/proc/<pid>/stat``), so a pid the kernel has since handed to
another process does not keep a dead grader's folders alive. The first folder a process makes
sweeps the temporary directory once: a folder of this form whose maker is gone is removed.
Anything else (a folder of a live grader, a name not of this form, a symbolic link) is left
alone; folders are removed without following links.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["folder", "make", "remove", "sweep"]

_NAME = re.compile(r"rnn-grader-[a-z]+-(\d+)\.(\d+)-")
_me: str | None = None
"""``<pid>.<start>`` of the process that last swept (a forked child sweeps again and names its own)."""


def make(kind: str) -> str:
    """A fresh folder ``rnn-grader-<kind>-...`` in the temporary directory, named for this process."""
    global _me
    pid = os.getpid()
    if _me is None or not _me.startswith(f"{pid}."):
        sweep()
        _me = f"{pid}.{_start_time(pid) or 0}"
    return tempfile.mkdtemp(prefix=f"rnn-grader-{kind}-{_me}-")


@contextlib.contextmanager
def folder(kind: str) -> Iterator[str]:
    """:func:`make` as a context manager that removes the folder on the way out."""
    path = make(kind)
    try:
        yield path
    finally:
        remove(path)


def sweep(where: str | None = None) -> list[str]:
    """Remove the scratch folders whose maker is no longer running; return their names."""
    removed = []
    try:
        entries = list(os.scandir(where or tempfile.gettempdir()))
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        pid, start = int(match[1]), int(match[2])
        running = _start_time(pid)
        if running is not None and (running == start or 0 in (running, start)):  # 0: start time unknown
            continue
        remove(entry.path)
        if not os.path.lexists(entry.path):
            removed.append(entry.name)
    return removed


def remove(path: str) -> None:
    """Remove a folder that student code may have made unreadable (``chmod 000`` inside it).

    Links are never followed: a scratch folder holds a link to the grader's own package, and
    ``chmod`` on a link changes its target.
    """
    if not os.path.isdir(path) or os.path.islink(path):
        return
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    for top, dirs, _ in os.walk(path):
        for name in dirs:
            inner = os.path.join(top, name)
            if not os.path.islink(inner):
                with contextlib.suppress(OSError):
                    os.chmod(inner, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, 0 when unknown, None when it does not run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except OSError:
            return 0
        return 0  # alive, but no /proc here: start time unknown
    # the command name (field 2) may hold spaces and parentheses: fields after the last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):  # a zombie has exited: only its exit status is left to collect
        return None
    return int(fields[19])
