"""The local transports: a terminal chat and the scenario simulator."""
