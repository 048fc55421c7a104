# client-agent/media.mk: (placeholder, filled by its owner)
