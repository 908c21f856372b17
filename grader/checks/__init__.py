"""Checks in the trusted parent: strategies, oracles, tolerances and one module per exercise."""

from __future__ import annotations

from grader.checks.base import Check, CheckFailure, Context, Inconclusive
from grader.checks.clipping import CLIPPING_CHECKS
from grader.checks.onehot import ONE_HOT_CHECKS, TO_ONEHOT_CHECKS
from grader.checks.params import params_checks, state_checks
from grader.checks.predict import PREDICT_CHECKS
from grader.checks.rnn import rnn_checks

__all__ = ["CHECKS", "Check", "CheckFailure", "Context", "Inconclusive"]

CHECKS: dict[str, tuple[Check, ...]] = {
    "one_hot": ONE_HOT_CHECKS,
    "to_onehot": TO_ONEHOT_CHECKS,
    "get_params": params_checks(1),
    "init_rnn_state": state_checks(1),
    "rnn": rnn_checks(1),
    "grad_clipping": CLIPPING_CHECKS,
    "predict_rnn": PREDICT_CHECKS,
    "get_params_2layer": params_checks(2),
    "init_rnn_state_2layer": state_checks(2),
    "rnn_2layer": rnn_checks(2),
}
"""The public checks of every part; their points add up to the part's points."""
