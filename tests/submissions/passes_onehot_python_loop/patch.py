def one_hot(x, n_class, dtype=torch.float32):
    res = torch.zeros(len(x), n_class, dtype=dtype, device=x.device)
    for i in range(len(x)):
        res[i, int(x[i])] = 1
    return res
