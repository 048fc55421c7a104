# tests/turn-core: tg-config, tg-cred, render, coturn with the rendered config
