# tests/interop.mk: (placeholder, filled by its owner)
