"""Comparisons that turn a wrong answer into a message naming its symptom.

Every function here raises :class:`~grader.checks.base.CheckFailure` with the
first thing that is wrong, in the order a student would fix them: the type, the
shape, the dtype, the device, then the values (max absolute and relative error,
the worst element's index, and the tolerance that applied).
"""

from __future__ import annotations

from typing import Any

import torch

from grader.checks.base import CheckFailure, describe_value
from grader.checks.tolerances import Tolerance, tolerance_for
from grader.sandbox.protocol import SeqValue, TensorValue

__all__ = ["dtype_name", "expect_on_device", "expect_sequence", "expect_tensor", "expect_values"]

SEQUENCE_CLASSES = ("list", "tuple", "ParameterList")


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def expect_sequence(value: Any, length: int, what: str, *, expected: str = "a list or tuple") -> tuple:
    """`value` must be a list/tuple (not a tensor) of `length` items; returns the items."""
    if not isinstance(value, SeqValue) or value.cls not in SEQUENCE_CLASSES:
        raise CheckFailure(f"{what} is {describe_value(value)} where {expected} is expected")
    if len(value.items) != length:
        n = len(value.items)
        raise CheckFailure(f"{what} has {n} item{'s' if n != 1 else ''} where {length} "
                           f"{'are' if length != 1 else 'is'} expected")
    return value.items


def expect_tensor(value: Any, what: str, *, shape: tuple, dtype: torch.dtype | str,
                  device: str) -> TensorValue:
    """`value` must be a tensor of this shape, dtype and device; returns it."""
    want_dtype = dtype if isinstance(dtype, str) else dtype_name(dtype)
    if not isinstance(value, TensorValue):
        raise CheckFailure(f"{what} is {describe_value(value)} where a tensor is expected")
    if tuple(value.shape) != tuple(shape):
        raise CheckFailure(f"{what} has shape {tuple(value.shape)} where {tuple(shape)} is expected")
    if value.dtype != want_dtype:
        raise CheckFailure(f"{what} has dtype torch.{value.dtype} where torch.{want_dtype} is expected")
    if _device_type(value.device) != _device_type(device):
        raise CheckFailure(
            f"{what} is on device {value.device} where {device} is expected (the device of the inputs; "
            "create new tensors with device=... or like an input)"
        )
    return value


def expect_values(value: TensorValue, expected: torch.Tensor, what: str,
                  tol: Tolerance | None = None) -> None:
    """Compare the data of `value` with `expected` elementwise."""
    if value.data is None:
        return
    tol = tol or tolerance_for(dtype_name(expected.dtype))
    got = value.data.to(torch.float64)
    exp = expected.detach().to("cpu", torch.float64)
    bad_nan = torch.isnan(got) != torch.isnan(exp)
    err = (got - exp).abs().nan_to_num(nan=0.0)
    limit = tol.atol + tol.rtol * exp.abs()
    wrong = (err > limit) | bad_nan
    if not bool(wrong.any()):
        return
    index = _worst_index(err, limit, bad_nan)
    g, e = got[index].item() if got.dim() else got.item(), exp[index].item() if exp.dim() else exp.item()
    scale = exp.abs().max().item()
    rel = f" (relative {err.max().item() / scale:.3g})" if scale > 0 else ""
    where = f" at index {tuple(int(i) for i in index)}" if got.dim() else ""
    digits = 6 if f"{g:.6g}" != f"{e:.6g}" else 17
    count = f"{int(wrong.sum())} of {wrong.numel()} element{'s' if wrong.numel() != 1 else ''} differ"
    raise CheckFailure(
        f"{what} has wrong values: {count}; max abs error {err.max().item():.3g}{rel}{where}: "
        f"got {g:.{digits}g}, expected {e:.{digits}g} (tolerance {tol})"
    )


def expect_on_device(value: Any, what: str, device: str) -> None:
    """Every tensor in `value` must be on `device`; only the device is judged here."""
    tensors = list(_tensors_in(value))
    if not tensors:
        raise CheckFailure(f"{what} holds no tensor ({describe_value(value)}), "
                           "so its device cannot be checked")
    for path, t in tensors:
        if _device_type(t.device) != _device_type(device):
            raise CheckFailure(f"{what}{path} is on device {t.device} where {device} is expected (create new "
                               "tensors with device=... or like an input)")


def _tensors_in(value: Any, path: str = ""):
    if isinstance(value, TensorValue):
        yield path, value
    elif isinstance(value, SeqValue):
        for i, item in enumerate(value.items):
            yield from _tensors_in(item, f"{path}[{i}]")


def _worst_index(err: torch.Tensor, limit: torch.Tensor, bad_nan: torch.Tensor):
    score = (err - limit).masked_fill(bad_nan, float("inf"))
    flat = int(score.reshape(-1).argmax())
    return tuple(torch.unravel_index(torch.tensor(flat), err.shape)) if err.dim() else ()


def _device_type(device: str) -> str:
    return str(device).split(":", 1)[0]
