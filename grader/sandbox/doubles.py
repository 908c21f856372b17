"""Test doubles the worker builds on the grader's request.

This module runs inside the sandbox worker, beside the student's code, so it must
not be trusted for a verdict: it only stands in for the pieces a part depends on,
so that each part is checked alone (a wrong ``one_hot`` does not also cost
``to_onehot``) and so that ``predict_rnn`` can be driven by a model whose greedy
output the parent computes independently (:func:`scripted_prediction`).

The doubles use no builtin that a part is forbidden to call, so the worker's
tripwire only ever sees the student's own calls.
"""

from __future__ import annotations

__all__ = ["GlobalMisuse", "build", "scripted_prediction"]


class GlobalMisuse(RuntimeError):
    """Raised by a trap: the student's function called a global it should not have."""


def one_hot(x, n_class, dtype=None):
    import torch

    res = torch.zeros(x.shape[0], n_class, dtype=dtype or torch.float32, device=x.device)
    return res.scatter_(1, x.long().reshape(-1, 1), 1)


def to_onehot(X, n_class):
    return [one_hot(X[:, i], n_class) for i in range(X.shape[1])]


def trap(config):
    name, instead = config["name"], config.get("instead", "")

    def _trap(*args, **kwargs):
        hint = f" instead of {instead}" if instead else ""
        raise GlobalMisuse(f"called the global `{name}`{hint}")

    return _trap


class ScriptedModel:
    """A fake RNN over `vocab_size` characters whose state is one integer s.

    Each input character x moves s to ``(s * mult + x + 1) % vocab_size`` and the
    output logits peak (1 against 0) at ``table[s]``: the greedy continuation
    depends on every character fed and on the state being threaded through.
    """

    def __init__(self, config):
        self.vocab_size = int(config["vocab_size"])
        self.table = [int(c) for c in config["table"]]
        self.mult = int(config["mult"])
        self.init = int(config["init"])
        self.params = None

    def init_rnn_state(self, batch_size, num_hiddens, device):
        import torch

        H = torch.zeros((batch_size, num_hiddens), device=device)
        H[:, 0] = float(self.init)
        return (H,)

    def rnn(self, inputs, state, params):
        import torch

        if params is not self.params:
            raise GlobalMisuse("passed `rnn` other params than the `params` argument of predict_rnn")
        H = state[0] if isinstance(state, (tuple, list)) else state
        s = int(round(float(H.reshape(-1)[0])))
        outputs = []
        for X in _steps(inputs, self.vocab_size):
            x = int(X.reshape(-1, self.vocab_size)[0].argmax())
            s = (s * self.mult + x + 1) % self.vocab_size
            logits = torch.zeros((X.reshape(-1, self.vocab_size).shape[0], self.vocab_size), device=X.device)
            logits[:, self.table[s]] = 1.0
            outputs.append(logits)
        H = H.clone()
        H.reshape(-1)[0] = float(s)
        return outputs, (H,)


def _steps(inputs, vocab_size):
    import torch

    if isinstance(inputs, torch.Tensor):
        return [inputs] if inputs.dim() <= 2 else list(inputs)
    return list(inputs)


def scripted_prediction(prefix_indices, num_chars, config):
    """The greedy output of :class:`ScriptedModel`, computed without torch (parent side)."""
    vocab_size, table, mult = int(config["vocab_size"]), config["table"], int(config["mult"])
    s = int(config["init"])
    output = [prefix_indices[0]]
    for t in range(num_chars + len(prefix_indices) - 1):
        s = (s * mult + output[-1] + 1) % vocab_size
        output.append(prefix_indices[t + 1] if t < len(prefix_indices) - 1 else table[s])
    return output


def build(name, config, cache):
    """Build the double `name`; `cache` shares one ScriptedModel between its rnn and state."""
    if name in ("scripted_rnn", "scripted_init_state", "scripted_params"):
        model = cache.setdefault(("scripted", repr(sorted(config.items()))), ScriptedModel(config))
        if name == "scripted_params":
            import torch

            model.params = model.params or (torch.zeros(1),)
            return model.params
        return model.rnn if name == "scripted_rnn" else model.init_rnn_state
    return {"one_hot": lambda c: one_hot, "to_onehot": lambda c: to_onehot, "trap": trap}[name](config)
