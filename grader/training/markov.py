"""A seeded synthetic corpus whose entropy rate is known exactly.

The fast training check trains on text from an order-``k`` Markov source: the next
character depends on the last ``k``. Everything about its predictability is computed
exactly, by linear algebra on the chain over ``k``-tuples (no sampling):

- the **entropy rate** ``H = H(X_t | X_{t-k..t-1})``, the best any model can do:
  ``limit_perplexity = exp(H)``;
- the **bigram entropy** ``H(X_t | X_{t-1})``, the best a model without recurrence
  can do (it sees only the current character): ``bigram_floor_perplexity``;
- the **unigram entropy** ``H(X_t)``, a model that ignores its input.

The default source (settings in the corpus manifest, ``grader/data/corpora.json``) makes
``X_t`` mostly a seeded permutation of ``X_{t-2}`` (weight ``far``), a little a
permutation of ``X_{t-1}`` (``near``), the rest seeded noise that depends on
``X_{t-2}``. Every transition probability is positive, so the chain is ergodic and its
stationary distribution unique. An RNN that carries its state reaches perplexity near
``exp(H)`` (about 2.2); one whose recurrence is broken cannot go below the bigram floor
(about 6.9), three times higher.

Only Python's ``random.Random.random()`` draws the parameters and the samples: its
sequence for a given seed is the one thing the standard library promises never to
change, so a seed gives the same corpus on every platform and version.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from typing import Any

import numpy as np

__all__ = ["MarkovSource"]

_ROW_SUM_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class MarkovSource:
    """An order-``order`` Markov source over the characters of ``alphabet``.

    ``probs[x_{t-k}, ..., x_{t-1}, x_t]`` is ``P(X_t = x_t | the previous k characters)``,
    an array of shape ``(m,) * (order + 1)`` with ``m = len(alphabet)``. Entropies are in nats.
    """

    alphabet: str
    """The symbols, one character each; index ``i`` in ``probs`` is ``alphabet[i]``."""
    order: int
    """How many previous characters the next one depends on."""
    probs: np.ndarray
    """The transition probabilities (read-only float64 copy)."""
    seed: int | None = None
    """The seed the source was generated from, if any (recorded by :meth:`describe`)."""

    def __post_init__(self) -> None:
        _check_alphabet(self.alphabet)
        _check_order(self.order)
        probs = np.array(self.probs, dtype=np.float64, copy=True)
        _check_probs(probs, len(self.alphabet), self.order)
        probs.flags.writeable = False
        object.__setattr__(self, "probs", probs)
        if not (np.all(probs > 0) or _is_primitive(self.transition_matrix > 0)):
            raise ValueError(
                "the chain is not ergodic (irreducible and aperiodic), so its stationary distribution "
                "is not unique; make every transition probability positive"
            )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls, seed: int | None = None) -> MarkovSource:
        """Return the calibrated source of the fast training check (manifest settings).

        ``seed=None`` uses the manifest's seed (0); another seed draws other permutations
        and noise with the same structure (entropy figures move by a few percent).
        """
        entry = _manifest_entry()
        return cls.generate(**entry["settings"], seed=entry["seed"] if seed is None else seed)

    @classmethod
    def generate(
        cls, *, alphabet: str, order: int, far: float, near: float, noise: float, seed: int
    ) -> MarkovSource:
        """Return a source where ``X_t`` depends mostly on ``X_{t-order}``.

        ``P(. | context) = far * [pi(x_{t-order})] + near * [tau(x_{t-1})] + noise * q[x_{t-order}]``
        with ``pi``, ``tau`` seeded permutations of the alphabet and ``q`` seeded
        distributions, each half uniform, so that every probability is positive.
        """
        _check_weights(far=far, near=near, noise=noise)
        _check_alphabet(alphabet)
        _check_order(order)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed={seed!r} must be an integer")
        rng = random.Random(seed)
        m = len(alphabet)
        pi, tau, q = _permutation(m, rng), _permutation(m, rng), _noise_rows(m, rng)
        probs = np.zeros((m,) * (order + 1))
        for context in np.ndindex(*(m,) * order):
            probs[context] = noise * q[context[0]]
            probs[context + (pi[context[0]],)] += far
            probs[context + (tau[context[-1]],)] += near
        return cls(alphabet, order, probs, seed=seed)

    # -- exact figures ------------------------------------------------------------------------

    @property
    def num_contexts(self) -> int:
        """The number of states of the chain on ``order``-tuples, ``m ** order``."""
        return len(self.alphabet) ** self.order

    @cached_property
    def transition_matrix(self) -> np.ndarray:
        """The ``(m**k, m**k)`` transition matrix of the chain on ``k``-tuples.

        Tuple ``(x_1, ..., x_k)`` has index ``x_1 m^{k-1} + ... + x_k``; it moves to
        ``(x_2, ..., x_k, c)`` with probability ``probs[x_1, ..., x_k, c]``.
        """
        m, n = len(self.alphabet), self.num_contexts
        successors = (np.arange(n) % (n // m))[:, None] * m + np.arange(m)  # (n, m)
        matrix = np.zeros((n, n))
        matrix[np.arange(n)[:, None], successors] = self.probs.reshape(n, m)
        return _read_only(matrix)

    @cached_property
    def stationary(self) -> np.ndarray:
        """The stationary distribution over contexts, shape ``(m,) * order``: ``pi P = pi``."""
        n = self.num_contexts
        system = self.transition_matrix.T - np.eye(n)
        system[-1] = 1.0  # replace one (redundant) balance equation by sum(pi) = 1
        rhs = np.zeros(n)
        rhs[-1] = 1.0
        pi = np.linalg.solve(system, rhs)
        return _read_only(pi.reshape((len(self.alphabet),) * self.order))

    @cached_property
    def bigram_joint(self) -> np.ndarray:
        """``P(X_{t-1} = b, X_t = c)`` under the stationary distribution, shape ``(m, m)``."""
        m = len(self.alphabet)
        context_mass = self.stationary.reshape(-1, m)  # (m**(k-1), m): earlier symbols, X_{t-1}
        return _read_only(np.einsum("ab,abc->bc", context_mass, self.probs.reshape(-1, m, m)))

    @property
    def unigram(self) -> np.ndarray:
        """The stationary distribution of one character, shape ``(m,)``."""
        return self.bigram_joint.sum(axis=0)

    @cached_property
    def entropy_rate(self) -> float:
        """``H(X_t | X_{t-k..t-1})`` in nats: the lowest cross-entropy any model can reach."""
        m = len(self.alphabet)
        return float(self.stationary.reshape(-1) @ _row_entropies(self.probs.reshape(-1, m)))

    @cached_property
    def bigram_entropy(self) -> float:
        """``H(X_t | X_{t-1})`` in nats: the best a model that sees one character can do."""
        joint = self.bigram_joint
        return _entropy(joint.reshape(-1)) - _entropy(joint.sum(axis=1))

    @cached_property
    def unigram_entropy(self) -> float:
        """``H(X_t)`` in nats: the best a model that ignores its input can do."""
        return _entropy(self.unigram)

    @property
    def limit_perplexity(self) -> float:
        """``exp(entropy_rate)``: no model's expected perplexity is lower."""
        return math.exp(self.entropy_rate)

    @property
    def bigram_floor_perplexity(self) -> float:
        """``exp(bigram_entropy)``: the floor of any model without recurrence."""
        return math.exp(self.bigram_entropy)

    @property
    def unigram_perplexity(self) -> float:
        """``exp(unigram_entropy)``: the floor of a model that ignores its input."""
        return math.exp(self.unigram_entropy)

    # -- sampling and records -----------------------------------------------------------------

    def sample(self, n: int, *, seed: int) -> str:
        """Return ``n`` characters, the first ``order`` drawn from the stationary distribution.

        Deterministic: the same source and seed give the same text on every platform.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n={n!r} must be a non-negative integer (the number of characters)")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed={seed!r} must be an integer")
        rng = random.Random(seed)
        m, n_contexts = len(self.alphabet), self.num_contexts
        state = _draw(self._stationary_cdf, rng)
        symbols = [int(s) for s in np.unravel_index(state, (m,) * self.order)]
        cdfs = self._transition_cdfs
        for _ in range(n - self.order):
            symbol = _draw(cdfs[state], rng)
            symbols.append(symbol)
            state = (state % (n_contexts // m)) * m + symbol
        return "".join(self.alphabet[s] for s in symbols[:n])

    @cached_property
    def _stationary_cdf(self) -> list[float]:
        return _cdf(self.stationary.reshape(-1))

    @cached_property
    def _transition_cdfs(self) -> list[list[float]]:
        return [_cdf(row) for row in self.probs.reshape(self.num_contexts, len(self.alphabet))]

    def describe(self) -> dict[str, Any]:
        """Return a JSON-ready record of the source and its exact figures (nats)."""
        return {
            "kind": "markov",
            "alphabet": self.alphabet,
            "order": self.order,
            "seed": self.seed,
            "probs_sha256": _fingerprint(self.probs),
            "entropy_rate": self.entropy_rate,
            "bigram_entropy": self.bigram_entropy,
            "unigram_entropy": self.unigram_entropy,
            "limit_perplexity": self.limit_perplexity,
            "bigram_floor_perplexity": self.bigram_floor_perplexity,
            "unigram_perplexity": self.unigram_perplexity,
        }


# -- helpers ------------------------------------------------------------------------------------


def _manifest_entry() -> dict[str, Any]:
    from grader.training.corpora import load_manifest  # no torch, no cycle: corpora is leaf

    return next(entry for entry in load_manifest()["synthetic"] if entry["name"] == "markov")


def _check_alphabet(alphabet: object) -> None:
    if not isinstance(alphabet, str) or len(alphabet) < 2:
        raise ValueError(f"alphabet={alphabet!r} must be a string of at least 2 distinct characters")
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet={alphabet!r} repeats a character; each symbol must appear once")


def _check_order(order: object) -> None:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order={order!r} must be a positive integer")


def _check_probs(probs: np.ndarray, m: int, order: int) -> None:
    shape = (m,) * (order + 1)
    if probs.shape != shape:
        raise ValueError(
            f"probs has shape {probs.shape}; an order-{order} source over {m} symbols needs {shape}"
        )
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise ValueError("probs must be finite and non-negative (they are probabilities)")
    worst = float(np.max(np.abs(probs.sum(axis=-1) - 1.0)))
    if worst > _ROW_SUM_TOLERANCE:
        raise ValueError(f"every row of probs must sum to 1 over the last axis; one is off by {worst:.3g}")


def _check_weights(**weights: float) -> None:
    if any(not 0 <= w <= 1 for w in weights.values()) or not math.isclose(sum(weights.values()), 1.0):
        raise ValueError(f"weights {weights} must lie in [0, 1] and sum to 1")
    if weights["noise"] <= 0:
        raise ValueError("noise must be positive: it keeps every transition probability > 0 (ergodic chain)")


def _is_primitive(adjacency: np.ndarray) -> bool:
    """True if some power of the 0/1 matrix is all positive (irreducible and aperiodic).

    By Wielandt's bound a primitive n x n matrix has ``A^((n-1)^2 + 1) > 0``, and then
    every higher power is positive too, so squaring until past the bound decides it.
    """
    power, exponent, bound = adjacency.astype(np.float64), 1, (len(adjacency) - 1) ** 2 + 1
    while exponent < bound:
        power = ((power @ power) > 0).astype(np.float64)
        exponent *= 2
    return bool(np.all(power > 0))


def _permutation(m: int, rng: random.Random) -> list[int]:
    """A seeded permutation of ``range(m)`` drawn with ``rng.random()`` only."""
    keys = [rng.random() for _ in range(m)]
    return sorted(range(m), key=keys.__getitem__)


def _noise_rows(m: int, rng: random.Random) -> np.ndarray:
    """``m`` seeded distributions over ``m`` symbols: half Dirichlet(1), half uniform."""
    exponentials = np.array([[-math.log(1.0 - rng.random()) for _ in range(m)] for _ in range(m)])
    return 0.5 * exponentials / exponentials.sum(axis=1, keepdims=True) + 0.5 / m


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _row_entropies(rows: np.ndarray) -> np.ndarray:
    logs = np.log(np.where(rows > 0, rows, 1.0))
    return -(rows * logs).sum(axis=1)


def _cdf(p: np.ndarray) -> list[float]:
    """The cumulative sums of ``p``, set to exactly 1 from the last possible symbol on.

    So bisecting any ``u`` in ``[0, 1)`` never runs past the last symbol of positive
    probability, whatever the rounding of the sums.
    """
    cdf = list(accumulate(float(x) for x in p))
    last = int(np.flatnonzero(p > 0)[-1])
    return cdf[:last] + [1.0] * (len(cdf) - last)


def _draw(cdf: list[float], rng: random.Random) -> int:
    return bisect_right(cdf, rng.random())


def _fingerprint(array: np.ndarray) -> str:
    """The sha256 of the array as little-endian float64 bytes: identifies a source in records."""
    return hashlib.sha256(np.ascontiguousarray(array, dtype="<f8").tobytes()).hexdigest()


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
