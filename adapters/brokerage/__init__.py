"""Broker adapters behind bot.broker.Broker: the embedded paper broker and Alpaca."""

from adapters.brokerage.paper import PaperBroker
from adapters.brokerage.state import JsonFileStore, MemoryStore, StateStore

__all__ = ["JsonFileStore", "MemoryStore", "PaperBroker", "StateStore"]
