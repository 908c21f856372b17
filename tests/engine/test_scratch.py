"""Scratch folders name the process that made them; the first folder a process makes sweeps away
those whose maker is gone (a grader killed with SIGKILL cannot remove its own), and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys

from grader.sandbox import scratch


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_the_folders_of_gone_processes(tmp_path):
    me = os.getpid()
    mine = scratch._start_time(me)
    assert mine
    dead = tmp_path / f"rnn-grader-worker-{_dead_pid()}.{mine}-abc"
    reused = tmp_path / f"rnn-grader-template-{me}.{mine + 1}-abc"  # this pid, but another process's start
    live = tmp_path / f"rnn-grader-worker-{me}.{mine}-abc"
    locked = tmp_path / f"rnn-grader-cell-{_dead_pid()}.1-abc"
    other = tmp_path / "rnn-grader-worker-notapid"
    for folder in (dead, reused, live, locked, other):
        (folder / "inner").mkdir(parents=True)
        (folder / "inner" / "f").write_text("x")
    (locked / "inner").chmod(0)  # student code may make its scratch unreadable
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep").write_text("x")
    link = tmp_path / f"rnn-grader-worker-{_dead_pid()}.1-link"
    link.symlink_to(precious)

    removed = scratch.sweep(str(tmp_path))

    assert sorted(removed) == sorted([dead.name, reused.name, locked.name])
    assert not dead.exists() and not reused.exists() and not locked.exists()
    assert (live / "inner" / "f").exists() and (other / "inner" / "f").exists()
    assert link.is_symlink() and (precious / "keep").exists()


def test_a_process_sweeps_once_when_it_makes_its_first_folder(tmp_path):
    dead = tmp_path / f"rnn-grader-worker-{_dead_pid()}.1-abc"
    dead.mkdir()
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]\n"
            "from grader.sandbox import scratch\n"
            "with scratch.folder('cell') as a: print(a)\n"
            "import os; print(os.path.exists(a), os.getpid(), scratch._start_time(os.getpid()))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         check=True)
    made, still_there, pid, start = run.stdout.split()
    assert os.path.basename(made).startswith(f"rnn-grader-cell-{pid}.{start}-")
    assert still_there == "False"
    assert not dead.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_zombie_counts_as_gone(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped: a zombie
    start = int(open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[19])
    folder = tmp_path / f"rnn-grader-worker-{proc.pid}.{start}-abc"
    folder.mkdir()
    assert scratch._start_time(proc.pid) is None
    assert scratch.sweep(str(tmp_path)) == [folder.name]
    proc.wait()


def test_remove_never_follows_a_link(tmp_path):
    """A worker's folder links to the grader's package: removing the folder leaves the package, and its
    mode, alone (a chmod through the link once left the package unreadable to the sandbox's user)."""
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    package.chmod(0o755)
    folder = tmp_path / "rnn-grader-worker-1.1-abc-path"
    (folder / "deep").mkdir(parents=True)
    (folder / "grader").symlink_to(package)
    (folder / "deep" / "grader").symlink_to(package)
    (folder / "deep").chmod(0)
    scratch.remove(str(folder))
    assert not folder.exists()
    assert (package / "sub").is_dir() and package.stat().st_mode & 0o777 == 0o755
