def get_params(num_inputs, num_hiddens, num_outputs, device):
    shapes = [(num_inputs, num_hiddens), (num_hiddens, num_hiddens), (num_hiddens,),
              (num_hiddens, num_outputs), (num_outputs,)]
    params = []
    for shape in shapes:
        if len(shape) == 1:
            params.append(torch.zeros(shape, device=device, requires_grad=True))
        else:
            params.append((torch.randn(shape, device=device) * 0.01).requires_grad_())
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return [torch.zeros(batch_size, num_hiddens, device=device)]


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    H = state[0]
    outputs = []
    for X in inputs:
        H = torch.tanh(X @ W_xh + H @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return outputs, [H]
