"""Oracles built from PyTorch's own modules, never from the reference solutions."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["clip_oracle", "rnn_oracle"]


def rnn_oracle(inputs, state, params, *, layers: int = 1):
    """Outputs (list of (batch, q)) and final states of ``nn.RNN`` with the contract's weights copied in."""
    X = torch.stack(list(inputs))  # (num_steps, batch_size, d)
    d, h = params[0].shape
    dtype = X.dtype
    weights = list(params[:-2])  # per layer: W_x, W_h, b
    W_hq, b_q = params[-2], params[-1]
    net = nn.RNN(d, h, num_layers=layers, nonlinearity="tanh", dtype=dtype)
    for name, _ in list(net.named_parameters()):
        delattr(net, name)
    for layer in range(layers):
        W_x, W_h, b = weights[3 * layer : 3 * layer + 3]
        setattr(net, f"weight_ih_l{layer}", W_x.T)
        setattr(net, f"weight_hh_l{layer}", W_h.T)
        setattr(net, f"bias_ih_l{layer}", b)
        setattr(net, f"bias_hh_l{layer}", torch.zeros_like(b))
    net._flat_weights = [getattr(net, n) for n in net._flat_weights_names]
    H0 = torch.stack(list(state))  # (layers, batch_size, h)
    out, H_n = net(X, H0)  # out: (num_steps, batch_size, h)
    outputs = [o @ W_hq + b_q for o in out]  # each (batch_size, q)
    return outputs, tuple(H_n)


def clip_oracle(grads: list[torch.Tensor], theta: float) -> tuple[list[torch.Tensor], float]:
    """Gradients after global-norm clipping by the contract (scale by theta/g when g > theta), and g.

    The norm is ``clip_grad_norm_``'s own total norm, taken in float64; the scale is the
    contract's theta/g (``clip_grad_norm_`` itself divides by g + 1e-6).
    """
    holders = [torch.zeros_like(x, dtype=torch.float64, requires_grad=True) for x in grads]
    for holder, x in zip(holders, grads, strict=True):
        holder.grad = x.detach().double().clone()
    g = float(torch.nn.utils.clip_grad_norm_(holders, max_norm=float("inf"), norm_type=2.0))
    if g > theta:
        return [(x.double() * (theta / g)).to(x.dtype) for x in grads], g
    return [x.clone() for x in grads], g
