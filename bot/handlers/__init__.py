"""The rooms: one module a capability, plain functions `handler(app, c, ...)`, each room's `register(bus)`."""
