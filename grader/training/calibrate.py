"""Calibrate a profile's perplexity thresholds from the reference solutions.

Instructor side and trusted: the reference functions of ``solutions/`` (a source
checkout; they never ship) are trained in this process with the grader's own loop
(:func:`grader.training.loop.train`, one thread per run, as in the worker) over
several seeds, and evaluated by the same trusted forward pass that grades students
(:func:`grader.training.check.evaluate`). The result is stored per profile and part in
``grader/data/thresholds.json``: the reference mean and spread, the known limit and
floor where there are some, the threshold and how it was derived, the versions.

Derivation (:func:`derive_threshold`), with ``bound = max(mean + 4 sd, worst seed)``, the
reference's pessimistic bound:

- with a known no-recurrence floor (the ``fast`` profile): the geometric midpoint
  ``sqrt(bound * floor)``, equal margins in nats per character on both sides, so that a
  model without recurrence fails by construction and the reference passes with room;
- without one: ``1.25 * bound``, 25 % headroom over the reference.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import statistics
import tempfile
from pathlib import Path

from grader.errors import ConfigError
from grader.training.check import SPECS, THRESHOLDS, _thresholds_text, evaluate, windows
from grader.training.loop import Model, train
from grader.training.profiles import get_profile, load_data

__all__ = ["calibrate", "derive_threshold", "reference_run", "reference_runs"]

ROOT = Path(__file__).resolve().parents[2]
_MODULES = {
    1: ("rnn_scratch", "get_params", "init_rnn_state", "rnn"),
    2: ("rnn_deep", "get_params_2layer", "init_rnn_state_2layer", "rnn_2layer"),
}


def reference_model(layers: int, solutions: str | Path | None = None) -> Model:
    """The reference functions of a one- or two-layer RNN, imported from ``solutions/``."""
    module_name, *names = _MODULES[layers]
    path = Path(solutions or ROOT / "solutions") / f"{module_name}.py"
    if not path.is_file():
        raise ConfigError(
            f"calibration needs the reference solutions, and {path} does not exist; run it from "
            "a source checkout or pass solutions=<the course's solutions/ folder>"
        )
    spec = importlib.util.spec_from_file_location(f"rnn_grader_reference_{module_name}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Model(*(getattr(module, name) for name in names))


def reference_run(
    profile: str, part: str, seed: int, device: str = "cpu", solutions: str | None = None
) -> dict:
    """Train the reference once with the grader's loop; its perplexity by the grader's own forward."""
    import torch

    torch.set_num_threads(1)  # as in the sandbox worker
    prof, layers = get_profile(profile), SPECS[part].layers
    data = load_data(prof)
    result = train(reference_model(layers, solutions), data.train, len(data.vocab), prof.config(seed), device)
    params = [p.detach().to("cpu", torch.float32) for p in result.params]
    ppl = evaluate(params, *windows(data.eval, prof.num_steps), layers)
    return {
        "seed": seed,
        "perplexity": ppl,
        "curve": result.curve,
        "nan_epoch": result.nan_epoch,
        "seconds": result.seconds,
    }


def reference_runs(
    profile: str,
    part: str,
    seeds,
    *,
    device: str = "cpu",
    workers: int | None = None,
    solutions: str | None = None,
) -> list[dict]:
    """:func:`reference_run` for every seed, `workers` processes at a time (one thread each)."""
    seeds = list(seeds)
    workers = max(1, min(workers or len(os.sched_getaffinity(0)), len(seeds)))
    if workers == 1 or device.startswith("cuda"):
        return [reference_run(profile, part, s, device, solutions) for s in seeds]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = [pool.submit(reference_run, profile, part, s, device, solutions) for s in seeds]
        return [job.result() for job in jobs]


def derive_threshold(mean: float, std: float, worst: float, floor: float | None) -> tuple[float, str]:
    """The threshold and a sentence saying how it was derived."""
    bound = max(mean + 4 * std, worst)
    if floor is None:
        return 1.25 * bound, (
            f"1.25 x max(mean + 4 sd, worst seed) = 1.25 x {bound:.4f}: 25% headroom over the "
            "reference's pessimistic bound (no known floor for this corpus)"
        )
    if bound >= floor:
        raise ConfigError(
            f"the reference's pessimistic bound {bound:.3f} is not below the no-recurrence floor "
            f"{floor:.3f}: this profile cannot tell a working RNN from a broken one; train longer"
        )
    return math.sqrt(bound * floor), (
        f"geometric midpoint sqrt({bound:.4f} x {floor:.4f}) of the reference's pessimistic bound "
        "max(mean + 4 sd, worst seed) and the no-recurrence floor exp(H(X_t | X_t-1)): equal margins "
        "in nats per character on both sides"
    )


def summarize(runs: list[dict], limit: float | None, floor: float | None) -> dict:
    """One part's calibration entry from its reference runs."""
    failed = [r["seed"] for r in runs if r["nan_epoch"] is not None or not math.isfinite(r["perplexity"])]
    if failed:
        raise ConfigError(f"the reference diverged (NaN loss) for seeds {failed}; lower the profile's lr")
    ppl = [r["perplexity"] for r in runs]
    mean, std = statistics.fmean(ppl), statistics.stdev(ppl)
    threshold, derivation = derive_threshold(mean, std, max(ppl), floor)
    curves = list(zip(*(r["curve"] for r in runs), strict=True))
    return {
        "threshold": round(threshold, 4),
        "derivation": derivation,
        "reference_mean": round(mean, 4),
        "reference_std": round(std, 4),
        "reference_min": round(min(ppl), 4),
        "reference_max": round(max(ppl), 4),
        "limit": None if limit is None else round(limit, 4),
        "floor": None if floor is None else round(floor, 4),
        "reference": {str(r["seed"]): round(r["perplexity"], 4) for r in runs},
        "seconds_mean": round(statistics.fmean(r["seconds"] for r in runs), 3),
        "curve_mean": [round(statistics.fmean(c), 4) for c in curves],
        "curve_std": [round(statistics.stdev(c), 4) for c in curves],
    }


def calibrate(
    *,
    profile: str = "fast",
    seeds: int = 20,
    device: str = "cpu",
    workers: int | None = None,
    solutions: str | None = None,
    out: str | Path = THRESHOLDS,
) -> dict:
    """Run the reference over `seeds` seeds per training part; store the profile's entry in `out`."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 10:
        raise ConfigError(f"seeds={seeds!r} must be an integer >= 10 (a spread from fewer runs means little)")
    import torch

    from grader import __version__

    prof = get_profile(profile)
    data = load_data(prof)
    parts = {
        part: summarize(
            reference_runs(profile, part, range(seeds), device=device, workers=workers, solutions=solutions),
            data.limit,
            data.floor,
        )
        for part in SPECS
    }
    entry = {
        "grader_version": __version__,
        "torch_version": torch.__version__,
        "device": device,
        "threads_per_run": 1,
        "seeds": f"0..{seeds - 1}",
        "settings": prof.config(0).__dict__ | {"seed": None},
        "corpus": data.source,
        "parts": parts,
    }
    _store(Path(out), profile, entry)
    return entry


def _store(path: Path, profile: str, entry: dict) -> None:
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    current.setdefault("version", 1)
    current.setdefault(
        "about",
        "Calibrated perplexity thresholds of the training check, per profile and part. "
        "Written by `rnn-grader calibrate`; expected outputs, not solution code.",
    )
    current.setdefault("profiles", {})[profile] = entry
    current["profiles"] = dict(sorted(current["profiles"].items()))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(current, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    _thresholds_text.cache_clear()
