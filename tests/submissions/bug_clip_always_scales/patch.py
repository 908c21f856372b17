def grad_clipping(params, theta, device):
    norm = torch.zeros((), device=device, dtype=torch.float64)
    for param in params:
        norm += (param.grad.detach().double() ** 2).sum()
    norm = norm.sqrt().item()
    for param in params:
        param.grad.mul_(theta / norm)
