"""Policy: forbidden builtins are caught through aliases and helpers; mentions are not."""

from __future__ import annotations

import pytest

from grader.exercises import SETUP_CODE
from grader.notebook.extract import Cell
from grader.notebook.policy import check_policy

PARTS = ("one_hot", "to_onehot", "rnn", "grad_clipping")


def violations(source: str) -> dict:
    return {k: v.name for k, v in check_policy([Cell("answer", source)], SETUP_CODE, PARTS).items()}


@pytest.mark.parametrize("source", [
    "def one_hot(x, n_class, dtype=torch.float32):\n    return F.one_hot(x, n_class).to(dtype)",
    "import torch.nn.functional as G\ndef one_hot(x, n_class, dtype=torch.float32):\n"
    "    return G.one_hot(x, n_class)",
    "from torch.nn import functional\ndef one_hot(x, n_class, dtype=None):\n"
    "    return functional.one_hot(x, n_class)",
    "from torch.nn.functional import one_hot as oh\ndef one_hot(x, n_class, dtype=None):\n"
    "    return oh(x, n_class)",
    "_f = F.one_hot\ndef _helper(x, n):\n    return _f(x, n)\ndef one_hot(x, n_class, dtype=None):\n"
    "    return _helper(x, n_class)",
    "def one_hot(x, n_class, dtype=None):\n    return getattr(F, 'one_hot')(x, n_class)",
    "import importlib\ndef one_hot(x, n_class, dtype=None):\n"
    "    return importlib.import_module('torch.nn.functional').one_hot(x, n_class)",
    "def one_hot(x, n_class, dtype=None):\n    return torch.nn.functional.one_hot(x, n_class)",
])
def test_forbidden_one_hot_is_caught(source):
    assert violations(source) == {"one_hot": "torch.nn.functional.one_hot"}


def test_rnn_and_clipping_builtins_are_caught():
    source = ("def rnn(inputs, state, params):\n    layer = nn.RNN(2, 3)\n    return layer(inputs)\n"
              "def grad_clipping(params, theta, device):\n"
              "    torch.nn.utils.clip_grad_norm_(params, theta)\n")
    assert violations(source) == {"rnn": "torch.nn.RNN",
                                  "grad_clipping": "torch.nn.utils.clip_grad_norm_"}


def test_mentions_in_comments_and_strings_are_not_references():
    source = ('def one_hot(x, n_class, dtype=torch.float32):\n    # unlike F.one_hot, this keeps the dtype\n'
              '    note = "F.one_hot is not allowed here"\n'
              '    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)\n'
              '    return res.scatter_(1, x.long().view(-1, 1), 1)\n')
    assert violations(source) == {}


def test_other_exercises_answer_for_themselves():
    source = ("def one_hot(x, n_class, dtype=None):\n    return F.one_hot(x, n_class)\n"
              "def to_onehot(X, n_class):\n"
              "    return [one_hot(X[:, i], n_class) for i in range(X.shape[1])]\n")
    assert violations(source) == {"one_hot": "torch.nn.functional.one_hot"}
