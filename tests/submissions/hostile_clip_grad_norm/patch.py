def grad_clipping(params, theta, device):
    torch.nn.utils.clip_grad_norm_(params, theta)
