"""The charge hub's Node-RED nodes, in Python: one child process per config node, spoken
to by ``hub.js`` over JSON lines on stdin/stdout, client of the engine's ZeroMQ bus."""

__all__: list[str] = []
