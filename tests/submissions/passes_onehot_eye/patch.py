def one_hot(x, n_class, dtype=torch.float32):
    return torch.eye(n_class, device=x.device, dtype=dtype)[x.long()]
