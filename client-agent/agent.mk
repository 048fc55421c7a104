# client-agent/agent.mk: (placeholder, filled by its owner)
