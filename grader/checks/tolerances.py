"""Comparison tolerances, one table for every check.

Student code may sum in another order than the oracle (einsum, concatenated
weights, a generic layer loop), so float comparisons allow the rounding such
reorderings cause over a few time steps, and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TOLERANCES", "Tolerance", "tolerance_for"]


@dataclass(frozen=True)
class Tolerance:
    """|got - expected| <= atol + rtol * |expected|, elementwise."""

    atol: float
    rtol: float

    def __str__(self) -> str:
        return f"atol={self.atol:g}, rtol={self.rtol:g}"


TOLERANCES: dict[str, Tolerance] = {
    "float16": Tolerance(atol=1e-3, rtol=1e-3),
    "bfloat16": Tolerance(atol=1e-2, rtol=1e-2),
    "float32": Tolerance(atol=1e-5, rtol=1e-5),
    "float64": Tolerance(atol=1e-10, rtol=1e-9),
}
"""Per dtype of the expected value; integer and bool results must be exact."""

EXACT = Tolerance(atol=0.0, rtol=0.0)


def tolerance_for(dtype: str) -> Tolerance:
    return TOLERANCES.get(dtype, EXACT)
