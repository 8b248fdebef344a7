"""Printing listings: a table for people, a JSON array of objects with `--json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def emit_rows(rows: list[dict[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """Print `rows`; the table shows `columns`, JSON shows every field."""
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("(none)")
        return
    table = Table(box=None, pad_edge=False)
    for column in columns:
        table.add_column(column.upper().replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(soft_wrap=True).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
