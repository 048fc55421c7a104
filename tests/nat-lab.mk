# tests/nat-lab.mk: (placeholder, filled by its owner)
