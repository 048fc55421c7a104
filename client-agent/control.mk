# client-agent/control.mk: (placeholder, filled by its owner)
