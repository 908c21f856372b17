def one_hot(x, n_class, dtype=torch.float32):
    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)
    res.scatter_(1, (x.long() + 1).view(-1, 1), 1)
    return res
