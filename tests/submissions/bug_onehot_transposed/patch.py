def one_hot(x, n_class, dtype=torch.float32):
    res = torch.zeros(n_class, x.shape[0], dtype=dtype, device=x.device)
    res.scatter_(0, x.long().view(1, -1), 1)
    return res
