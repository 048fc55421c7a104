# client-agent/ice.mk: (placeholder, filled by its owner)
