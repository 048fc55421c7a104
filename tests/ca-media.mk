# tests/ca-media.mk: (placeholder, filled by its owner)
