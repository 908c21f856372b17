"""The training parts, parent side: ask the worker to train, then judge what came back.

The worker trains the student's functions with the grader's loop
(:mod:`grader.training.loop`) and returns the trained parameters. Nothing it says
about itself decides the verdict: the parent checks the parameters' shapes, computes
the perplexity itself with its own forward pass (``nn.RNN`` with the weights copied in,
:func:`~grader.checks.oracles.rnn_oracle`) on the profile's evaluation text, and
compares it with the calibrated threshold of ``grader/data/thresholds.json``. It also
compares the student's forward on the trained weights with its own: a model that
trained well but is not the contract's RNN (the two-layer answer that drops
``H2_{t-1} W_hh2``) fails there. The worker's training curve is display data only.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from grader.checks.oracles import rnn_oracle
from grader.errors import ConfigError, ProtocolError
from grader.record import CheckResult, PartResult
from grader.sandbox.protocol import SeqValue, TensorValue
from grader.sandbox.runner import WorkerLost
from grader.training.profiles import Profile, ProfileData, get_profile, load_data

__all__ = [
    "SPECS",
    "TrainingSpec",
    "evaluate",
    "grade_training",
    "greedy_sample",
    "load_thresholds",
    "margin_text",
    "oracle_logits",
    "threshold_entry",
    "windows",
    "write_plot",
    "write_plots",
]

THRESHOLDS = Path(__file__).resolve().parents[1] / "data" / "thresholds.json"
PROBE_WINDOWS = 16
"""Evaluation windows on which the student's forward is compared with the reference forward."""
AGREEMENT_NATS = 1e-3
"""Largest difference of log-probabilities between the student's forward and the reference's
on the trained weights (float32 rounding is below 1e-5; the bug it catches is above 1e-2)."""


@dataclass(frozen=True)
class TrainingSpec:
    """What one training part trains."""

    layers: int
    functions: dict
    """Role in :class:`grader.training.loop.Model` -> the student's function name."""
    end_to_end: dict
    """The extra roles the ``end_to_end`` option adds (the student's one_hot, grad_clipping)."""


SPECS = {
    "train_rnn": TrainingSpec(
        1,
        {"get_params": "get_params", "init_state": "init_rnn_state", "forward": "rnn"},
        {"one_hot": "one_hot", "grad_clipping": "grad_clipping"},
    ),
    "train_rnn_2layer": TrainingSpec(
        2,
        {"get_params": "get_params_2layer", "init_state": "init_rnn_state_2layer", "forward": "rnn_2layer"},
        {},
    ),
}


class _Verdict(Exception):
    """Ends a training part early with a status and a message."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class _Run:
    """What the worker sent back, parsed; only ``params`` and ``probe`` are used to judge."""

    params: list
    curve: list
    nan_epoch: int | None
    device: str
    seconds: float
    probe: torch.Tensor | None
    probe_error: str | None


# -- the part ------------------------------------------------------------------------------------


def grade_training(session, part, options) -> PartResult:
    """Train the student's model in the session's worker and judge it; always a PartResult."""
    started = time.monotonic()
    extras: dict = {"profile": options.profile, "end_to_end": bool(options.end_to_end)}
    try:
        profile = get_profile(options.profile)
        data, entry = load_data(profile), threshold_entry(profile.name, part.name)
        run = _train(session, SPECS[part.name], profile, data, options, extras)
        status, message = _judge(SPECS[part.name], profile, data, entry, run, extras)
    except _Verdict as verdict:
        status, message = verdict.status, verdict.message
    except ConfigError as exc:
        status, message = "error", f"the training check is not configured: {exc}"
    points = float(part.points) if status == "passed" else 0.0
    seconds = round(time.monotonic() - started, 3)
    check = CheckResult("perplexity", points, float(part.points), status, message)
    return PartResult(part.name, points, float(part.points), status, message, None, seconds, [check], extras)


def _train(session, spec: TrainingSpec, profile: Profile, data: ProfileData, options, extras: dict) -> _Run:
    functions = _functions(session, spec, options, extras)
    X, _ = windows(data.eval, profile.num_steps)
    header = {
        "op": "train",
        "functions": functions,
        "config": profile.config(options.seed).__dict__,
        "vocab_size": len(data.vocab),
        "layers": spec.layers,
    }
    tensors = {"corpus": data.train, "probe": X[:PROBE_WINDOWS].contiguous()}
    try:
        reply, decoder = session.worker().request(header, timeout=profile.seconds, tensors=tensors)
    except WorkerLost as exc:
        session.lost()
        if exc.status == "timeout":
            raise _Verdict(
                "timeout",
                f"training did not finish within the {profile.seconds:g} s budget of "
                f"the {profile.name!r} profile",
            ) from None
        raise _Verdict("error", f"the worker was lost while training: {exc.message}") from None
    return _parse(reply, decoder, functions)


def _functions(session, spec: TrainingSpec, options, extras: dict) -> dict:
    try:
        session.worker()
    except WorkerLost as exc:
        raise _Verdict("error", exc.message) from None
    functions = dict(spec.functions)
    if options.end_to_end:
        functions.update({role: name for role, name in spec.end_to_end.items() if _defined(session, name)})
    extras["functions"] = functions
    missing = [name for name in functions.values() if not _defined(session, name)]
    if missing:
        raise _Verdict(
            "missing",
            f"training needs `{missing[0]}`, which is not a function after running the "
            "answer cells; the model cannot be trained without it",
        )
    return functions


def _defined(session, name: str) -> bool:
    info = session.defined.get(name)
    return isinstance(info, dict) and bool(info.get("callable"))


def _parse(reply: dict, decoder, functions: dict) -> _Run:
    from grader.notebook.policy import FORBIDDEN

    seen = {str(x) for x in reply.get("forbidden") or [] if isinstance(x, str)}
    for name in functions.values():
        hit = sorted(seen & FORBIDDEN.get(name, frozenset()))
        if hit:
            raise _Verdict(
                "forbidden",
                f"`{name}` called the builtin `{hit[0]}` while training; this exercise is "
                f"to implement `{name}` without it",
            )
    if not reply.get("ok"):
        raise _Verdict("failed", "training raised " + _error_text(reply.get("error") or {}))
    try:
        params = decoder.decode(reply["params"])
        probe = decoder.decode(reply["probe"]) if reply.get("probe") is not None else None
    except (ProtocolError, KeyError) as exc:
        raise _Verdict("failed", f"the worker sent a malformed training reply ({exc})") from None
    nan_epoch = reply.get("nan_epoch")
    return _Run(
        params=params,
        curve=_floats(reply.get("curve")),
        nan_epoch=nan_epoch if isinstance(nan_epoch, int) and not isinstance(nan_epoch, bool) else None,
        device=str(reply.get("device", "?"))[:40],
        seconds=_number(reply.get("seconds")),
        probe=probe.data if isinstance(probe, TensorValue) else None,
        probe_error=str(reply["probe_error"])[:300] if isinstance(reply.get("probe_error"), str) else None,
    )


def _error_text(error: dict) -> str:
    kind, message = str(error.get("type", "an error"))[:80], str(error.get("message", ""))[:500]
    where = f" (at {str(error['where'])[:120]})" if error.get("where") else ""
    return (message if kind == "TrainingError" else f"{kind}: {message}") + where


def _floats(values) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values[:100_000] if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


# -- judging -------------------------------------------------------------------------------------


def _judge(
    spec: TrainingSpec, profile: Profile, data: ProfileData, entry: dict, run: _Run, extras: dict
) -> tuple[str, str]:
    extras.update(device=run.device, curve=run.curve, curve_trusted=False)  # timings: PartResult.seconds
    if run.nan_epoch is not None:
        return "failed", f"loss became NaN at epoch {run.nan_epoch}; the parameters are no longer numbers"
    V, h = len(data.vocab), profile.num_hiddens
    params = _contract_params(run.params, spec.layers, V, h)
    X, Y = windows(data.eval, profile.num_steps)
    ppl = evaluate(params, X, Y, spec.layers)
    extras.update(
        perplexity=_round(ppl),
        threshold=entry["threshold"],
        eval_on=profile.eval_on,
        sample=greedy_sample(params, spec.layers, data.vocab, profile.sample_prefix, 50),
    )
    margin = margin_text(ppl, entry)
    if not math.isfinite(ppl):
        return "failed", f"{margin}: the trained parameters hold NaN or inf values"
    gap = _disagreement(params, X[:PROBE_WINDOWS], spec.layers, run)
    extras["forward_gap_nats"] = None if gap is None else _round(gap)
    agrees = gap is not None and gap <= AGREEMENT_NATS
    if ppl <= entry["threshold"]:
        return (
            ("passed", margin)
            if agrees
            else ("failed", f"{margin}, but {_disagreement_text(gap, run, spec)}")
        )
    reported = run.curve[-1] if run.curve else math.inf
    if agrees and reported <= entry["threshold"]:  # the forward is right, so the loop's report is not
        return "failed", (
            f"{margin}: above the threshold; the training loop reported {_fmt(reported)} on its "
            f"last epoch, but the parameters it returned score {_fmt(ppl)} here: they are not the "
            "parameters that were trained"
        )
    reasons = ["above the threshold" + _hint(min(ppl, reported), V, entry, spec, diverged=agrees)]
    if not agrees:  # the student's forward is not the contract's: that explains a high perplexity here
        reasons.append("also, " + _disagreement_text(gap, run, spec))
    return "failed", f"{margin}: " + "; ".join(reasons)


def _contract_params(values, layers: int, V: int, h: int) -> list[torch.Tensor]:
    """The trained parameters as float32 CPU tensors, or a failure naming the first mismatch."""
    shapes = [(V, h), (h, h), (h,)] + [(h, h), (h, h), (h,)] * (layers - 1) + [(h, V), (V,)]
    items = values.items if isinstance(values, SeqValue) else ()
    if len(items) != len(shapes):
        raise _Verdict(
            "failed",
            f"get_params returned {len(items)} tensors after training; the contract has "
            f"{len(shapes)}, so the grader cannot evaluate the trained model",
        )
    out = []
    for i, (value, shape) in enumerate(zip(items, shapes, strict=True)):
        if not isinstance(value, TensorValue) or value.data is None or tuple(value.shape) != shape:
            got = tuple(value.shape) if isinstance(value, TensorValue) else type(value).__name__
            raise _Verdict(
                "failed",
                f"trained parameter {i} has shape {got}, the contract's is {shape} "
                f"(vocab_size={V}, num_hiddens={h}); the grader reads the weights by "
                "the contract, so they must have its shapes and order",
            )
        if not value.dtype.startswith(("float", "bfloat")):
            raise _Verdict("failed", f"trained parameter {i} has dtype {value.dtype}, not a floating dtype")
        out.append(value.data.to(torch.float32))
    return out


def _hint(ppl: float, V: int, entry: dict, spec: TrainingSpec, *, diverged: bool) -> str:
    """A likely cause of a perplexity above the threshold, from the lower of the measured and the reported
    figures (the report is display data: it shapes the hint, never the verdict)."""
    if diverged and ppl >= 0.97 * V:
        return (
            f", no better than a uniform guess over the {V} characters: the model did not learn "
            "(did training diverge? are the initial weights small, N(0, 0.01^2)?)"
        )
    floor = entry.get("floor")
    if floor is not None and ppl >= 0.95 * floor:
        state = "H2" if spec.layers == 2 else "H"
        return (
            f"; no model without recurrence can go below {floor:.2f} (the bigram floor): does the hidden "
            f"state {state} carry from one time step to the next?"
        )
    return ""


def _disagreement(params, X: torch.Tensor, layers: int, run: _Run) -> float | None:
    """Largest |log p_student - log p_reference| on the probe windows, or None if not comparable."""
    expected = oracle_logits(params, X, layers)  # (num_steps, probe windows, V)
    if run.probe is None or tuple(run.probe.shape) != tuple(expected.shape):
        return None
    got = run.probe.to(torch.float32)
    gap = (F.log_softmax(got, dim=-1) - F.log_softmax(expected, dim=-1)).abs().max()
    return float(gap) if torch.isfinite(gap) else math.inf


def _disagreement_text(gap: float | None, run: _Run, spec: TrainingSpec) -> str:
    forward = spec.functions["forward"]
    if gap is None:
        why = run.probe_error or "it did not return one (num_steps, batch_size, vocab_size) output per step"
        return f"the student's `{forward}` could not be compared with the reference forward: {why}"
    hint = " (does every layer use its own state, H2_{t-1} W_hh2?)" if spec.layers == 2 else ""
    return (
        f"`{forward}` and the reference forward (nn.RNN with the trained weights copied in, both from a zero "
        f"state) disagree on the trained weights: log-probabilities up to {gap:.3g} apart (allowed "
        f"{AGREEMENT_NATS:g}). The trained weights do not mean what the contract says{hint}"
    )


def margin_text(ppl: float, entry: dict) -> str:
    """``perplexity 1.31 (threshold 1.50; reference 1.12 ± 0.03; limit 1.05)``."""
    parts = [
        f"threshold {entry['threshold']:.2f}",
        f"reference {entry['reference_mean']:.2f} ± {entry['reference_std']:.2f}",
    ]
    if entry.get("limit") is not None:
        parts.append(f"limit {entry['limit']:.2f}")
    return f"perplexity {_fmt(ppl)} ({'; '.join(parts)})"


def _fmt(x: float) -> str:
    return f"{x:.2f}" if x < 1e4 else f"{x:.3g}"


def _round(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


# -- the trusted forward pass --------------------------------------------------------------------


def windows(text: torch.Tensor, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut `text` into non-overlapping windows: X, Y both (num_windows, num_steps), Y = X shifted by one."""
    n = (len(text) - 1) // num_steps
    X = text[: n * num_steps].view(n, num_steps)
    Y = text[1 : n * num_steps + 1].view(n, num_steps)
    return X, Y


def oracle_logits(params, X: torch.Tensor, layers: int) -> torch.Tensor:
    """The reference forward from a zero state: (num_steps, num_windows, V) scores."""
    V, h = params[0].shape
    inputs = list(torch.eye(V)[X.T])  # num_steps x (num_windows, V)
    state = tuple(torch.zeros(X.shape[0], h) for _ in range(layers))
    with torch.no_grad():
        outputs, _ = rnn_oracle(inputs, state, params, layers=layers)
    return torch.stack(outputs)


def evaluate(params, X: torch.Tensor, Y: torch.Tensor, layers: int) -> float:
    """Perplexity of the contract's RNN with `params` on windows (X, Y), by the grader's own forward."""
    logits = oracle_logits(params, X, layers)  # (num_steps, num_windows, V)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.T.reshape(-1))
    return math.exp(min(float(loss), 700.0)) if torch.isfinite(loss) else math.nan


def greedy_sample(params, layers: int, vocab, prefix: str, num_chars: int) -> str:
    """The reference decoder: feed `prefix`, then append the argmax character `num_chars` times."""
    prefix = "".join(c for c in prefix if c in vocab.char_to_idx) or vocab.idx_to_char[0]
    V, h = params[0].shape
    eye, state = torch.eye(V), tuple(torch.zeros(1, h) for _ in range(layers))
    output = vocab.encode(prefix)
    with torch.no_grad():
        outputs, state = rnn_oracle([eye[i : i + 1] for i in output], state, params, layers=layers)
        for _ in range(num_chars):
            output.append(int(outputs[-1].argmax(dim=1)))
            outputs, state = rnn_oracle([eye[output[-1] : output[-1] + 1]], state, params, layers=layers)
    return vocab.decode(output)


# -- calibrated thresholds -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _thresholds_text() -> str:
    return THRESHOLDS.read_text(encoding="utf-8") if THRESHOLDS.is_file() else "{}"


def load_thresholds() -> dict:
    """The calibration file (a fresh dict each call)."""
    return json.loads(_thresholds_text())


def threshold_entry(profile: str, part: str) -> dict:
    entry = load_thresholds().get("profiles", {}).get(profile, {}).get("parts", {}).get(part)
    if entry is None:
        raise ConfigError(
            f"no calibrated threshold for part {part!r} in profile {profile!r} ({THRESHOLDS}); "
            f"run: rnn-grader calibrate --profile {profile} --seeds 20"
        )
    return entry


# -- the plot ------------------------------------------------------------------------------------


def write_plot(part: PartResult, path: str | Path) -> Path | None:
    """A PNG of the student's training curve against the reference band; None without a curve."""
    curve = part.extras.get("curve") or []
    if not curve:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entry = load_thresholds().get("profiles", {}).get(part.extras.get("profile"), {}).get("parts", {})
    entry = entry.get(part.name, {})
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    _reference_band(ax, entry)
    ax.plot(range(1, len(curve) + 1), curve, color="C0", label="your model (training perplexity)")
    if "threshold" in entry:
        ax.axhline(
            entry["threshold"], color="C3", linestyle="--", label=f"threshold {entry['threshold']:.2f}"
        )
    ax.set(xlabel="epoch", ylabel="perplexity", yscale="log", title=f"{part.name}: {part.status}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")  # a killed grader leaves no half-drawn plot
    fig.savefig(partial, format="png")
    plt.close(fig)
    partial.replace(path)
    return path


def write_plots(record, record_file: str | Path) -> list[Path]:
    """One PNG per trained part beside the record file: ``<record stem>__<part>.png``."""
    record_file = Path(record_file)
    paths = [write_plot(p, record_file.with_name(f"{record_file.stem}__{p.name}.png")) for p in record.parts]
    return [p for p in paths if p is not None]


def _reference_band(ax, entry: dict) -> None:
    mean, std = entry.get("curve_mean") or [], entry.get("curve_std") or []
    if not mean or len(mean) != len(std):
        return
    epochs = range(1, len(mean) + 1)
    low = [max(m - 2 * s, 1.0) for m, s in zip(mean, std, strict=True)]
    high = [m + 2 * s for m, s in zip(mean, std, strict=True)]
    ax.fill_between(epochs, low, high, color="0.8", label="reference, mean ± 2 sd")
    ax.plot(epochs, mean, color="0.4", linewidth=1)
