def one_hot(x, n_class, dtype=torch.float32):
    module = __import__("torch.nn." + "functional", fromlist=["one_hot"])
    return module.one_hot(x.long(), n_class).to(dtype)
