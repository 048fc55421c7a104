# tests/ca-zrtp.mk: (placeholder, filled by its owner)
