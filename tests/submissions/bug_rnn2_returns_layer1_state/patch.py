def rnn_2layer(inputs, state, params):
    W_xh1, W_hh1, b_h1, W_xh2, W_hh2, b_h2, W_hq, b_q = params
    H1, H2 = state
    outputs = []
    for X in inputs:
        H1 = torch.tanh(X @ W_xh1 + H1 @ W_hh1 + b_h1)
        H2 = torch.tanh(H1 @ W_xh2 + H2 @ W_hh2 + b_h2)
        outputs.append(H2 @ W_hq + b_q)
    return outputs, (H1,)
