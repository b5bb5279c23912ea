"""The local target: every workshop module rehearsed on one machine, no AWS and no Docker."""
