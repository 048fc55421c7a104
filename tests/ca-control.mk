# tests/ca-control.mk: (placeholder, filled by its owner)
