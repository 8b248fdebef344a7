"""`python -m bot …` runs the `hoist` command."""

from bot.cli import main

main()
