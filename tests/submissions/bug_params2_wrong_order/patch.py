def get_params_2layer(num_inputs, num_hiddens, num_outputs, device):
    def _normal(shape):
        return torch.normal(0.0, 0.01, size=shape, device=device).requires_grad_()

    def _zeros(n):
        return torch.zeros(n, device=device, requires_grad=True)

    W_xh1, W_hh1, b_h1 = (_normal((num_inputs, num_hiddens)), _normal((num_hiddens, num_hiddens)),
                          _zeros(num_hiddens))
    W_xh2, W_hh2, b_h2 = (_normal((num_hiddens, num_hiddens)), _normal((num_hiddens, num_hiddens)),
                          _zeros(num_hiddens))
    W_hq, b_q = _normal((num_hiddens, num_outputs)), _zeros(num_outputs)
    return (W_xh1, W_hh1, W_xh2, W_hh2, b_h1, b_h2, W_hq, b_q)
