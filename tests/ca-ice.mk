# tests/ca-ice.mk: (placeholder, filled by its owner)
