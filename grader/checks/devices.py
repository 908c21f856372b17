"""Where device properties are checked: on CUDA when grading there, else on ``meta``.

A tensor on PyTorch's ``meta`` device has a shape, a dtype and a device but no
data, so running a part on it shows, without a GPU, whether its results follow
the inputs' device. Code that must read values (``.item()``, Python loops over a
tensor) cannot run on ``meta``; that is not a bug, so such a check passes with a
note, and the property is checked for real when grading on CUDA.
"""

from __future__ import annotations

import torch

from grader.checks.base import CheckFailure, Context

__all__ = ["device_for_check", "meta_limitation", "moved_off_device", "on_device_or_meta"]

_READS_VALUES = ("cannot be called on meta tensors", "from the 'Meta' backend")
"""Errors of code that reads values, or of an operation this PyTorch build lacks on meta."""
_MOVES_DATA = ("Cannot copy out of meta tensor", "meta device type tensor to numpy")


def device_for_check(ctx: Context) -> str:
    return ctx.device if ctx.device.startswith("cuda") else "meta"


def on_device_or_meta(t: torch.Tensor, ctx: Context) -> torch.Tensor:
    if device_for_check(ctx) == "meta":
        return torch.empty(t.shape, dtype=t.dtype, device="meta").requires_grad_(t.requires_grad)
    return t  # a CPU tensor: the call sends every CPU tensor to the grading device


def meta_limitation(failure: CheckFailure) -> bool:
    """Whether a failure on ``meta`` comes from reading values, not from a device mistake."""
    return failure.message.startswith("raised") and any(m in failure.message for m in _READS_VALUES)


def moved_off_device(failure: CheckFailure) -> CheckFailure | None:
    """A failure on ``meta`` caused by copying data to the CPU, restated as the device bug it is."""
    if failure.message.startswith("raised") and any(m in failure.message for m in _MOVES_DATA):
        return CheckFailure("moves data off the inputs' device (`.cpu()`, `.to('cpu')` or `.numpy()`); the "
                            f"results must stay on the inputs' device: {failure.message}",
                            failure.counterexample)
    return None
