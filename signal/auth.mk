# sig-digest, sig-nonce, sig-throttle
