def rnn_2layer(inputs, state, params):
    *layers, W_hq, b_q = params
    layers = [layers[i:i + 3] for i in range(0, len(layers), 3)]
    states = list(state)
    outputs = []
    for X in inputs:
        h = X
        for l, (W_x, W_h, b) in enumerate(layers):
            states[l] = torch.tanh(h @ W_x + states[l] @ W_h + b)
            h = states[l]
        outputs.append(h @ W_hq + b_q)
    return outputs, tuple(states)
