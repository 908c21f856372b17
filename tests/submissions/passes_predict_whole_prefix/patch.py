def predict_rnn(prefix, num_chars, rnn, params, init_rnn_state, num_hiddens, vocab_size, device, idx_to_char,
                char_to_idx):
    state = init_rnn_state(1, num_hiddens, device)
    indices = [char_to_idx[c] for c in prefix]
    if num_chars == 0:
        return prefix
    X = to_onehot(torch.tensor([indices], device=device), vocab_size)  # len(prefix) steps of (1, vocab_size)
    Y, state = rnn(X, state, params)
    indices.append(int(Y[-1].argmax(dim=1).item()))
    for _ in range(num_chars - 1):
        Y, state = rnn(to_onehot(torch.tensor([[indices[-1]]], device=device), vocab_size), state, params)
        indices.append(int(Y[0].argmax(dim=1).item()))
    return "".join(idx_to_char[i] for i in indices)
