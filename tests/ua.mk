# tests/ua
