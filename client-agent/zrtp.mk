# client-agent/zrtp.mk: (placeholder, filled by its owner)
