# tests/unit-store
