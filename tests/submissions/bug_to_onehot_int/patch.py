def to_onehot(X, n_class):
    return [one_hot(X[:, i], n_class, dtype=X.dtype) for i in range(X.shape[1])]
