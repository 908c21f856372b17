def one_hot(x, n_class, dtype=torch.float32):
    return torch.zeros(20_000_000, dtype=torch.float64)
