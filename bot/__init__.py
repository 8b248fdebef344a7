"""Hoist's Slack surface: listeners, Block Kit builders, and the `hoist` entry point."""
