"""Reference solutions for the ``rnn_deep`` assignment (a two-layer scratch RNN).

The single source of truth for the reference code of this assignment; never ships.
"""

import torch

__all__ = ["get_params_2layer", "init_rnn_state_2layer", "rnn_2layer"]


def get_params_2layer(num_inputs, num_hiddens, num_outputs, device):
    """Create the parameters of a two-layer RNN.

    Args:
        num_inputs: int d, the input size (vocab_size for one-hot inputs).
        num_hiddens: int h, the number of hidden units of each layer.
        num_outputs: int q, the output size (vocab_size).
        device: torch.device (or str) to create the parameters on.

    Returns:
        (W_xh1 (d, h), W_hh1 (h, h), b_h1 (h,), W_xh2 (h, h), W_hh2 (h, h), b_h2 (h,),
        W_hq (h, q), b_q (q,)) in exactly this order: float32 leaf tensors on `device`
        that require grad; weights ~ N(0, 0.01^2), biases 0.
    """

    def _normal(shape):
        return torch.normal(0.0, 0.01, size=shape, device=device).requires_grad_()

    def _zeros(n):
        return torch.zeros(n, device=device, requires_grad=True)

    W_xh1, W_hh1, b_h1 = (_normal((num_inputs, num_hiddens)), _normal((num_hiddens, num_hiddens)),
                          _zeros(num_hiddens))
    W_xh2, W_hh2, b_h2 = (_normal((num_hiddens, num_hiddens)), _normal((num_hiddens, num_hiddens)),
                          _zeros(num_hiddens))
    W_hq, b_q = _normal((num_hiddens, num_outputs)), _zeros(num_outputs)
    return (W_xh1, W_hh1, b_h1, W_xh2, W_hh2, b_h2, W_hq, b_q)


def init_rnn_state_2layer(batch_size, num_hiddens, device):
    """The initial hidden state of a two-layer RNN.

    Args:
        batch_size: int, the number of sequences in the minibatch.
        num_hiddens: int h, the number of hidden units of each layer.
        device: torch.device (or str) to create the state on.

    Returns:
        A tuple (H1, H2), both float32 (batch_size, num_hiddens) tensors of zeros on `device`.
    """
    return (
        torch.zeros((batch_size, num_hiddens), device=device),
        torch.zeros((batch_size, num_hiddens), device=device),
    )


def rnn_2layer(inputs, state, params):
    """Run a two-layer tanh RNN over a sequence of inputs.

    Args:
        inputs: list of num_steps tensors X_t, each (batch_size, d).
        state: tuple (H1, H2), each (batch_size, h), the states before the first step.
        params: (W_xh1, W_hh1, b_h1, W_xh2, W_hh2, b_h2, W_hq, b_q) as from get_params_2layer.

    Returns:
        (outputs, (H1, H2)): outputs is a list of num_steps tensors O_t, each (batch_size, q), with
        H1_t = tanh(X_t W_xh1 + H1_{t-1} W_hh1 + b_h1),
        H2_t = tanh(H1_t W_xh2 + H2_{t-1} W_hh2 + b_h2),
        O_t = H2_t W_hq + b_q; (H1, H2) are the states after the last step.
    """
    W_xh1, W_hh1, b_h1, W_xh2, W_hh2, b_h2, W_hq, b_q = params
    H1, H2 = state
    outputs = []
    for X in inputs:  # X: (batch_size, d)
        H1 = torch.tanh(X @ W_xh1 + H1 @ W_hh1 + b_h1)  # (batch_size, h)
        H2 = torch.tanh(H1 @ W_xh2 + H2 @ W_hh2 + b_h2)  # (batch_size, h)
        outputs.append(H2 @ W_hq + b_q)  # (batch_size, q)
    return outputs, (H1, H2)
