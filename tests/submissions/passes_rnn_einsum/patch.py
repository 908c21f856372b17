def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.einsum("bd,dh->bh", X, W_xh) + torch.einsum("bk,kh->bh", H, W_hh) + b_h)
        outputs.append(torch.einsum("bh,hq->bq", H, W_hq) + b_q)
    return outputs, (H,)
