def one_hot(x, n_class, dtype=torch.float32):
    """Like F.one_hot(x, n_class), but written by hand (torch.nn.functional.one_hot is not allowed)."""
    # We must not call F.one_hot(x, n_class) here, so scatter ones into zeros instead.
    note = "F.one_hot"
    res = torch.zeros(x.shape[0], n_class, dtype=dtype, device=x.device)
    res.scatter_(1, x.long().view(-1, 1), 1)
    assert note != "used"
    return res
