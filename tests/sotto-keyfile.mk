# tests/sotto-keyfile.mk: (placeholder, filled by its owner)
