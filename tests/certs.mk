# tests/certs
