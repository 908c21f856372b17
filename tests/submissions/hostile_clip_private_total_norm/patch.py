def grad_clipping(params, theta, device):
    from torch.nn.utils.clip_grad import _get_total_norm
    norm = float(_get_total_norm([p.grad for p in params]))
    if norm > theta:
        for param in params:
            param.grad.mul_(theta / norm)
