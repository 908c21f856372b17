"""What a check is, how it calls the worker, and how it runs under hypothesis.

A part (one exercise function) has a few :class:`Check` objects, each worth some
of the part's points. A check passes or raises :class:`CheckFailure` with a
student-facing message; under hypothesis the failure that comes out is the one
for the smallest input found, and its ``counterexample`` shows that input.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox.protocol import Encoder, ObjectValue, SeqValue, TensorValue
from grader.sandbox.runner import WorkerLost

__all__ = ["CallResult", "Check", "CheckFailure", "Context", "Inconclusive", "run_property"]


class CheckFailure(Exception):
    """The submission's answer is wrong; the message names the symptom."""

    def __init__(self, message: str, counterexample: str | None = None):
        super().__init__(message)
        self.message = message
        self.counterexample = counterexample


class Inconclusive(Exception):
    """A check could not decide for reasons that are not the student's fault (it then passes with a note)."""


@dataclass(frozen=True)
class Check:
    """One property of one part."""

    name: str
    """Short name, unique within the part (``values``, ``device``, ``gradients``...)."""
    points: float
    """The share of the part's points this check is worth."""
    run: Callable[[Context], None]
    """Raises CheckFailure when the property does not hold."""
    doc: str = ""
    """What the check asserts, in one sentence for the student."""


@dataclass
class CallResult:
    """What came back from one call of the student's function."""

    value: Any
    args: Any = None
    backward_error: str | None = None
    forbidden: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class Context:
    """What a check needs: the worker, the part, seeds, budgets and the device."""

    worker: Any
    part: str
    seed: int
    device: str = "cpu"
    call_seconds: float = 20.0
    part_seconds: float = 120.0
    max_examples: int = 40
    hidden: Any = None
    """The hidden-check module (instructor mode), or None for public checks only."""
    forbidden_seen: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)

    def call(self, *args, replace: dict | None = None, backward: Any = None, return_args: bool = False,
             fn: str | None = None, **kwargs) -> CallResult:
        """Call the student's function in the worker; a raised exception becomes a CheckFailure."""
        if time.monotonic() - self.started > self.part_seconds:
            raise WorkerLost(
                "timeout",
                f"the checks of this part took longer than the {self.part_seconds:g} s "
                "limit per part (part seconds)",
            )
        enc = Encoder(device=None if self.device == "cpu" else self.device)
        header = {"op": "call", "fn": fn or self.part, "args": [enc.encode(a) for a in args],
                  "kwargs": {k: enc.encode(v) for k, v in kwargs.items()}, "seed": self.seed,
                  "replace": _replace_specs(replace), "return_args": return_args}
        if backward is not None:
            header["backward"] = enc.encode(backward)
        tensors = enc.tensors
        reply, decoder = self.worker.request(header, timeout=self.call_seconds, tensors=tensors)
        if not reply.get("ok"):
            raise CheckFailure(_raised_message(reply.get("error") or {}))
        forbidden = tuple(str(x) for x in reply.get("forbidden", []) if isinstance(x, str))
        self.forbidden_seen.update(forbidden)
        return CallResult(
            value=decoder.decode(reply["value"]),
            args=decoder.decode(reply["args"]) if reply.get("args") is not None else None,
            backward_error=(reply.get("backward_error")
                            if isinstance(reply.get("backward_error"), str) else None),
            forbidden=forbidden,
        )


def _replace_specs(replace: dict | None) -> dict:
    out = {}
    for name, double in (replace or {}).items():
        out[name] = {"name": double.name, "config": double.config}
    return out


def _raised_message(error: dict) -> str:
    kind = str(error.get("type", "Exception"))[:80]
    message = str(error.get("message", ""))[:600]
    where = str(error.get("where", ""))[:120]
    line = str(error.get("line", ""))[:200]
    text = f"raised {kind}: {message}" if message else f"raised {kind}"
    if where:
        text += f" (at {where}" + (f": `{line}`" if line else "") + ")"
    return text


def run_property(ctx: Context, strategy, body: Callable[[Any], None], *, max_examples: int | None = None,
                 examples: tuple = ()) -> None:
    """Run `body` on inputs drawn from `strategy`; re-raise the minimal CheckFailure."""
    from hypothesis import HealthCheck, Phase, example, given, seed, settings

    def test(case):
        try:
            body(case)
        except CheckFailure as failure:
            failure.counterexample = failure.counterexample or format_case(case)
            raise

    test = given(strategy)(test)
    for case in reversed(examples):
        test = example(case)(test)
    test = settings(
        max_examples=max_examples or ctx.max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )(seed(ctx.seed)(test))
    _run_quietly(test)


def _run_quietly(test) -> None:
    from hypothesis.errors import Flaky

    try:
        test()
    except Flaky as exc:
        raise CheckFailure(
            "gave different results for the same input (does the code depend on global state, "
            f"time, or random numbers?): {str(exc)[:300]}"
        ) from None


def format_case(case: Any) -> str:
    """A compact, readable form of an input, as in ``X=tensor([[0]]), n_class=1``."""
    if isinstance(case, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in case.items() if not k.startswith("_"))
    return format_value(case)


def format_value(value: Any) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        text = repr(value.detach())
        return (" ".join(text.split()) if len(text) < 400
                else f"tensor of shape {tuple(value.shape)}, {value.dtype}")
    if isinstance(value, (list, tuple)):
        inner = ", ".join(format_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def describe_value(value: Any) -> str:
    """What the student returned, in words (for type mismatches)."""
    if isinstance(value, TensorValue):
        kind = "Tensor" if value.cls in ("Tensor", "Parameter") else f"{value.cls} (a Tensor subclass)"
        return f"a {kind} of shape {tuple(value.shape)}"
    if isinstance(value, SeqValue):
        return f"a {value.cls} of {len(value.items)} items"
    if isinstance(value, ObjectValue):
        return f"a {value.cls}"
    return f"a {type(value).__name__} ({value!r:.60})"
