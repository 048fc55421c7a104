# tests/ca-agent.mk: (placeholder, filled by its owner)
