"""Hoist's core: inventory, storage, the deploy engine. Knows nothing of Slack."""

__version__ = "0.1.0"
