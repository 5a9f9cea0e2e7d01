"""Typed views of Redis stream replies (the client decodes replies to ``str``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

StreamEntry = tuple[str, dict[str, str]]


def text_fields(fields: Mapping[Any, Any] | None) -> dict[str, str]:
    """A stream entry's or hash's fields as ``str`` to ``str``."""
    return {str(key): str(value) for key, value in (fields or {}).items()}


def stream_entries(rows: Iterable[Any] | None) -> list[StreamEntry]:
    """``XRANGE``/``XREVRANGE``/``XREAD`` entries as ``(entry ID, fields)`` pairs."""
    return [(str(entry_id), text_fields(fields)) for entry_id, fields in rows or []]


def xread_entries(replies: Any) -> list[tuple[str, list[StreamEntry]]]:
    """An ``XREAD`` reply (RESP2 list form) as ``(stream, entries)`` pairs."""
    return [(str(name), stream_entries(rows)) for name, rows in replies or []]
