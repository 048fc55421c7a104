# tests/turn-probe: STUN/TURN codec, sotto-turn run and check against coturn
