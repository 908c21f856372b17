def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    W = torch.cat([W_xh, W_hh], 0)  # (d + h, h)
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.cat([X, H], 1) @ W + b_h)
        outputs.append(H @ W_hq + b_q)
    return outputs, (H,)
