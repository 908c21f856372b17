def get_params(num_inputs, num_hiddens, num_outputs, device):
    with open("fill.bin", "wb") as f:
        for _ in range(64):
            f.write(b"\0" * (1 << 20))

    def _normal(shape):
        return torch.normal(0.0, 0.01, size=shape, device=device).requires_grad_()

    W_xh = _normal((num_inputs, num_hiddens))
    W_hh = _normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device, requires_grad=True)
    W_hq = _normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device, requires_grad=True)
    return (W_xh, W_hh, b_h, W_hq, b_q)
