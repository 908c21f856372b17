"""The grader's training loop: the book's ``train_and_predict_rnn``, run on the student's model.

Worker side: :func:`run_in_worker` is the sandbox worker's ``train`` operation. It
looks the student's ``get_params`` / ``init_rnn_state`` / ``rnn`` (or the two-layer
trio) up by name, trains them with :func:`train` on the corpus the parent sent, and
returns the trained parameters as tensors. What it reports besides (the curve, a
NaN epoch) is display data for the parent, which re-evaluates the parameters itself.

The loop is the book's (Dive into Deep Learning, PyTorch port of the first Chinese
edition, section 6.4): mean cross-entropy over every step of a minibatch, plain
minibatch SGD, gradient clipping, random or consecutive sampling with the state
detached between consecutive minibatches. By default the one-hot encoding and the
clipping are the grader's own, so a mistake in the student's ``one_hot`` or
``grad_clipping`` is not charged a second time here; ``end_to_end`` uses theirs.

This module imports torch, numpy and :mod:`grader.training.data` only, never the
reference solutions, and calls no builtin that a part replaces (the worker's
tripwires then record only the student's own calls).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F

from grader.training.data import data_iter_consecutive, data_iter_random

__all__ = [
    "Model",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "clip_global_norm_",
    "run_in_worker",
    "train",
]


class TrainingError(Exception):
    """The student's pieces cannot be trained at all; the message says why and what to fix."""


@dataclass(frozen=True)
class TrainConfig:
    """The hyperparameters of one run, with the book's names."""

    num_hiddens: int
    num_steps: int
    batch_size: int
    lr: float
    clipping_theta: float
    num_epochs: int
    random_sampling: bool = True
    """``data_iter_random`` (a fresh zero state per minibatch) or ``data_iter_consecutive``."""
    seed: int = 0
    """The one seed of the run: parameter initialisation and minibatch order."""

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(names)}")
        config = cls(**data)
        for name in ("num_hiddens", "num_steps", "batch_size", "num_epochs"):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        return config


@dataclass(frozen=True)
class Model:
    """The pieces the loop trains; ``None`` for one_hot / grad_clipping means the grader's own."""

    get_params: Callable
    init_state: Callable
    forward: Callable
    one_hot: Callable | None = None
    grad_clipping: Callable | None = None


@dataclass
class TrainResult:
    """What one run produced."""

    params: tuple
    """The trained parameters, as the student's ``get_params`` made them."""
    curve: list[float]
    """Training perplexity of each finished epoch (the book's ``exp(l_sum / n)``)."""
    nan_epoch: int | None
    """The first epoch whose mean loss was not finite (training stopped there), else None."""
    seconds: float


def seed_everything(seed: int) -> torch.Generator:
    """Seed every generator the run touches; return the one that orders the minibatches."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train(model: Model, corpus: torch.Tensor, vocab_size: int, config: TrainConfig, device) -> TrainResult:
    """Train `model` on `corpus` (1-D int64 character indices) with the book's loop."""
    generator = seed_everything(config.seed)
    data_iter = data_iter_random if config.random_sampling else data_iter_consecutive
    V, h = vocab_size, config.num_hiddens
    eye = torch.eye(V, device=device)  # row i is the one-hot vector of character i
    params = _checked_params(model.get_params(V, h, V, device))
    curve: list[float] = []
    started = time.perf_counter()
    for epoch in range(1, config.num_epochs + 1):
        state, loss_sum, n = None, torch.zeros((), device=device), 0
        for X, Y in data_iter(
            corpus, config.batch_size, config.num_steps, device=device, generator=generator
        ):
            # X, Y: (batch_size, num_steps) int64; Y is X shifted one character to the left
            if state is None or config.random_sampling:
                state = model.init_state(config.batch_size, h, device)
            else:
                state = tuple(S.detach() for S in state)  # keep the values, cut the graph
            inputs = _one_hot_steps(model, eye, X)  # num_steps x (batch_size, V)
            outputs, state = model.forward(inputs, state, params)  # num_steps x (batch_size, V)
            logits = torch.cat(list(outputs), dim=0)  # (num_steps * batch_size, V), step-major
            y = Y.T.reshape(-1)  # (num_steps * batch_size,), step-major like logits
            loss = F.cross_entropy(logits, y)  # mean over every step of every sequence
            for p in params:
                if p.is_leaf:
                    p.grad = None
            loss.backward()
            _clip(model, params, config.clipping_theta, device)
            _sgd(params, config.lr, first=epoch == 1 and n == 0)
            loss_sum += loss.detach() * y.numel()
            n += y.numel()
        mean_loss = float(loss_sum) / n
        if not math.isfinite(mean_loss):
            return TrainResult(params, curve, epoch, time.perf_counter() - started)
        curve.append(math.exp(min(mean_loss, 700.0)))
    return TrainResult(params, curve, None, time.perf_counter() - started)


def _checked_params(params) -> tuple:
    sequence = isinstance(params, (tuple, list, torch.nn.ParameterList))
    if not sequence or not all(isinstance(p, torch.Tensor) for p in params):
        raise TrainingError(f"get_params returned {type(params).__name__}, not a tuple of tensors")
    if not any(p.requires_grad for p in params):
        raise TrainingError(
            "get_params returned tensors that do not require grad, so nothing can learn: "
            "create them with requires_grad=True (or call .requires_grad_())"
        )
    if any(p.requires_grad and not p.is_leaf for p in params):
        raise TrainingError(
            "get_params returned tensors computed from others (not leaf tensors, e.g. "
            "torch.randn(..., requires_grad=True) * 0.01), so SGD cannot update them: scale first, "
            "then call .requires_grad_()"
        )
    return tuple(params)


def _one_hot_steps(model: Model, eye: torch.Tensor, X: torch.Tensor) -> list[torch.Tensor]:
    """``to_onehot``: one (batch_size, V) float32 tensor per time step."""
    if model.one_hot is None:
        return list(eye[X.T])  # (num_steps, batch_size, V) -> num_steps x (batch_size, V)
    return [model.one_hot(X[:, t], eye.shape[0]) for t in range(X.shape[1])]


def clip_global_norm_(params, theta: float) -> None:
    """Scale every gradient by theta/g when their global L2 norm g exceeds theta (no host sync)."""
    grads = [p.grad for p in params if p.is_leaf and p.grad is not None]
    if not grads:
        return
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))  # g over all gradients
    scale = (theta / norm).clamp(max=1.0)  # theta/g when g > theta, else exactly 1 (bit-for-bit)
    torch._foreach_mul_(grads, scale)


def _clip(model: Model, params: tuple, theta: float, device) -> None:
    if model.grad_clipping is None:
        clip_global_norm_(params, theta)
    else:
        model.grad_clipping(params, theta, device)


def _sgd(params: tuple, lr: float, *, first: bool) -> None:
    """``param -= lr * param.grad`` (the loss is already a mean: the book's ``sgd(params, lr, 1)``)."""
    learning = [p for p in params if p.is_leaf and p.grad is not None]
    if first and not learning:
        raise TrainingError(
            "no parameter received a gradient: get_params must return leaf tensors with "
            "requires_grad=True, and rnn must compute the outputs from them"
        )
    with torch.no_grad():
        torch._foreach_add_([p.data for p in learning], [p.grad for p in learning], alpha=-lr)


# -- the worker's ``train`` operation ------------------------------------------------------------


def run_in_worker(worker, header: dict, tensors: dict) -> tuple[dict, dict]:
    """Train the student's functions named in `header`; reply with the trained parameters.

    Request: ``functions`` (role -> name in the student's namespace: ``get_params``,
    ``init_state``, ``forward``, optionally ``one_hot``, ``grad_clipping``), ``config``
    (:class:`TrainConfig` fields), ``vocab_size``; tensors ``corpus`` (1-D indices) and
    ``probe`` (windows on which the student's forward runs with the trained weights, from a
    zero state of ``layers`` tensors).
    Reply: ``params`` and ``probe`` (encoded values), ``curve``, ``nan_epoch``,
    ``forbidden``, ``device``, ``seconds``.
    """
    from grader.sandbox import limits
    from grader.sandbox.protocol import Encoder

    config = TrainConfig.from_dict(header["config"])
    device, V = torch.device(worker.config["device"]), int(header["vocab_size"])
    corpus = tensors["corpus"].to(torch.int64)
    model = Model(**{role: worker.ns[name] for role, name in header["functions"].items()})
    with limits.student_code(trusted=False) as tripwire:
        try:
            result = train(model, corpus, V, config, device)
        except TrainingError as exc:
            return {
                "ok": False,
                "error": {"type": "TrainingError", "message": str(exc)},
                "forbidden": sorted(tripwire.called),
            }, {}
        probe, probe_error = _probe(
            model, result.params, tensors["probe"].to(device), V, int(header["layers"])
        )
        forbidden = sorted(tripwire.called)
    enc = Encoder()
    reply = {
        "ok": True,
        "params": enc.encode(result.params),
        "probe": enc.encode(probe),
        "probe_error": probe_error,
        "curve": [round(x, 6) for x in result.curve],
        "nan_epoch": result.nan_epoch,
        "forbidden": forbidden,
        "device": str(device),
        "seconds": round(result.seconds, 3),
    }
    return reply, worker.check_size(enc.tensors)


def _probe(model: Model, params: tuple, X: torch.Tensor, V: int, layers: int):
    """The student's forward on windows X (num_windows, num_steps) from the contract's zero state.

    Zeros, not the student's ``init_state``: the comparison is about the forward pass alone.

    Returns ((num_steps, num_windows, V) scores, None), or (None, what went wrong).
    """
    from grader.sandbox.worker import describe

    eye = torch.eye(V, device=X.device)
    try:
        with torch.no_grad():
            h = params[1].shape[0]  # W_hh (h, h) in both contracts
            state = tuple(torch.zeros(X.shape[0], h, device=X.device) for _ in range(layers))
            outputs, _ = model.forward(list(eye[X.T]), state, params)
            return torch.stack(list(outputs)), None
    except Exception as exc:  # the student's forward may fail in any way; the parent reports it
        error = describe(exc)
        return None, f"{error['type']}: {error['message'][:200]}"
