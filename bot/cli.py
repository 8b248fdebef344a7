"""The `hoist` entry point: the core's commands, plus the ones that need the bot."""

from __future__ import annotations

from core.cli import cli


def main() -> None:
    """Run the `hoist` command."""
    cli()
