"""Reference solutions for the ``rnn_scratch`` assignment.

This module is the single source of truth for the reference code: the source
notebook's solution cells are generated from these functions (docstring outside
the solution region, body inside it), and a test proves they match by AST.
It never ships to students.
"""

import torch

__all__ = [
    "one_hot",
    "to_onehot",
    "get_params",
    "init_rnn_state",
    "rnn",
    "grad_clipping",
    "predict_rnn",
]


def one_hot(x, n_class, dtype=torch.float32):
    """One-hot encode a batch of indices.

    Args:
        x: (n,) integer tensor of indices in [0, n_class), any integer dtype, any device.
        n_class: int, the number of classes (the vocabulary size, vocab_size).
        dtype: torch dtype of the result, torch.float32 by default.

    Returns:
        (n, n_class) tensor of `dtype` on x.device; row i is 1 at column x[i], 0 elsewhere.
    """
    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)  # (n, n_class)
    res.scatter_(1, x.long().view(-1, 1), 1)
    return res


def to_onehot(X, n_class):
    """One-hot encode a minibatch of index sequences, one tensor per time step.

    Args:
        X: (batch_size, num_steps) integer tensor of character indices.
        n_class: int, the vocabulary size (vocab_size).

    Returns:
        A list of num_steps tensors, each (batch_size, n_class) float32 on X.device.
    """
    return [one_hot(X[:, i], n_class) for i in range(X.shape[1])]


def get_params(num_inputs, num_hiddens, num_outputs, device):
    """Create the parameters of a one-layer RNN.

    Args:
        num_inputs: int d, the input size (vocab_size for one-hot inputs).
        num_hiddens: int h, the number of hidden units.
        num_outputs: int q, the output size (vocab_size).
        device: torch.device (or str) to create the parameters on.

    Returns:
        (W_xh (d, h), W_hh (h, h), b_h (h,), W_hq (h, q), b_q (q,)), float32 leaf
        tensors on `device` that require grad; weights ~ N(0, 0.01^2), biases 0.
    """

    def _normal(shape):
        return torch.normal(0.0, 0.01, size=shape, device=device).requires_grad_()

    W_xh = _normal((num_inputs, num_hiddens))
    W_hh = _normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W_hq = _normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device, requires_grad=True)
    return (W_xh, W_hh, b_h, W_hq, b_q)


def init_rnn_state(batch_size, num_hiddens, device):
    """The initial hidden state of a one-layer RNN.

    Args:
        batch_size: int, the number of sequences in the minibatch.
        num_hiddens: int h, the number of hidden units.
        device: torch.device (or str) to create the state on.

    Returns:
        A tuple (H,) with H a float32 (batch_size, num_hiddens) tensor of zeros on `device`.
    """
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    """Run a one-layer tanh RNN over a sequence of inputs.

    Args:
        inputs: list of num_steps tensors X_t, each (batch_size, d).
        state: tuple (H,) with H (batch_size, h), the state before the first step.
        params: (W_xh (d, h), W_hh (h, h), b_h (h,), W_hq (h, q), b_q (q,)).

    Returns:
        (outputs, (H,)): outputs is a list of num_steps tensors O_t, each (batch_size, q),
        with H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h) and O_t = H_t W_hq + b_q;
        H is the state after the last step. Differentiable with respect to params.
    """
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:  # X: (batch_size, d)
        H = torch.tanh(X @ W_xh + H @ W_hh + b_h)  # (batch_size, h)
        outputs.append(H @ W_hq + b_q)  # (batch_size, q)
    return outputs, (H,)


def grad_clipping(params, theta, device):
    """Clip the gradients of `params` in place to a global L2 norm of at most `theta`.

    Args:
        params: sequence of tensors whose .grad is set.
        theta: float > 0, the largest allowed global gradient norm.
        device: torch.device of the parameters.

    Effect:
        With g the L2 norm of all gradients taken together, when g > theta every
        gradient is multiplied by theta / g; otherwise the gradients are left
        bit-for-bit unchanged. Returns nothing.
    """
    norm = torch.zeros((), device=device, dtype=torch.float64)
    for param in params:
        norm += (param.grad.detach().double() ** 2).sum()
    norm = norm.sqrt().item()
    if norm > theta:
        for param in params:
            param.grad.mul_(theta / norm)


def predict_rnn(
    prefix,
    num_chars,
    rnn,
    params,
    init_rnn_state,
    num_hiddens,
    vocab_size,
    device,
    idx_to_char,
    char_to_idx,
):
    """Continue `prefix` by `num_chars` characters, choosing the most likely one each step.

    Args:
        prefix: non-empty str of characters in char_to_idx.
        num_chars: int >= 0, the number of characters to generate.
        rnn: a forward function obeying the `rnn` contract (use it, not a global).
        params: the parameters to pass to `rnn`.
        init_rnn_state: a function obeying the `init_rnn_state` contract (use it).
        num_hiddens: int h, passed to init_rnn_state.
        vocab_size: int, the number of characters.
        device: torch.device to build inputs on.
        idx_to_char: list mapping an index to its character.
        char_to_idx: dict mapping a character to its index.

    Returns:
        str: prefix followed by num_chars greedily (argmax) generated characters.
    """
    state = init_rnn_state(1, num_hiddens, device)
    output = [char_to_idx[prefix[0]]]
    for t in range(num_chars + len(prefix) - 1):
        X = to_onehot(torch.tensor([[output[-1]]], device=device), vocab_size)  # [(1, vocab_size)]
        (Y, state) = rnn(X, state, params)
        if t < len(prefix) - 1:
            output.append(char_to_idx[prefix[t + 1]])
        else:
            output.append(int(Y[0].argmax(dim=1).item()))
    return "".join(idx_to_char[i] for i in output)
