"""The wheel and the sdist ship the grader and its data, never solutions/ or hidden checks."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("packaging")  # one process runs the module fixture


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir",
                          str(out), str(ROOT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    wheel = next(out.glob("*.whl"))
    sdist = next(out.glob("*.tar.gz"))
    with zipfile.ZipFile(wheel) as zf:
        wheel_names = zf.namelist()
    with tarfile.open(sdist) as tf:
        sdist_names = tf.getnames()
    return wheel_names, sdist_names


def test_solutions_and_hidden_checks_are_not_shipped(dists):
    for names in dists:
        assert not [n for n in names if "solutions/" in n or n.endswith("hidden.py")], names


def test_wheel_carries_the_grader_and_its_data(dists):
    wheel, _ = dists
    for needed in ("grader/engine.py", "grader/pytest_plugin.py", "grader/sandbox/worker.py",
                   "grader/data/corpora.json"):
        assert needed in wheel
    assert any(n.endswith("entry_points.txt") for n in wheel)


def test_the_code_is_lint_clean():
    pytest.importorskip("ruff", reason="ruff is in the dev extra")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
