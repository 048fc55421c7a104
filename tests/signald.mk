# tests/signald
