# tests/ca-sip.mk: (placeholder, filled by its owner)
