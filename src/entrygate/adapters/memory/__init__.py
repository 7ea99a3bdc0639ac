"""In-memory implementations of the ports, one module per concern, held to ``tests/contracts``."""
