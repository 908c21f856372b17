def to_onehot(X, n_class):
    return [one_hot(X[i], n_class) for i in range(X.shape[0])]
