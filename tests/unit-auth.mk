# tests/unit-auth
