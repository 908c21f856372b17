def rnn(inputs, state, params):
    import time
    time.sleep(86400)
