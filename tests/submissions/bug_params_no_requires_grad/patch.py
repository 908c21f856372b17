def get_params(num_inputs, num_hiddens, num_outputs, device):
    def _normal(shape):
        return torch.normal(0.0, 0.01, size=shape, device=device)
    W_xh = _normal((num_inputs, num_hiddens))
    W_hh = _normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = _normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    return (W_xh, W_hh, b_h, W_hq, b_q)
