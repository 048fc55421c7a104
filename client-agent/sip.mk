# client-agent/sip.mk: (placeholder, filled by its owner)
