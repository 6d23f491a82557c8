"""Live sharing of spaces over the LAN: host, peers, replicas (no Qt; see docs/sharing.md)."""
