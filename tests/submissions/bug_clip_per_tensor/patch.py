def grad_clipping(params, theta, device):
    for param in params:
        norm = param.grad.data.norm().item()
        if norm > theta:
            param.grad.data *= theta / norm
