"""Logging that cannot leak card data or caller PII, with one-line JSON output.

LiveKit Agents attaches ``lk.pii.*`` extras (DTMF digits, user transcripts, tool arguments) to its
log records and only strips them for OpenTelemetry exporters. :class:`PiiFilter` removes them and
masks card-number-like digit runs on every handler, in every process that calls
:func:`install_pii_filter` (the main process and each job process).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from payment_tools.redaction import mask_card_numbers

call_id_var: ContextVar[str | None] = ContextVar("voicepay_call_id", default=None)

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_WITHHELD = "[log message withheld: redaction failed]"
_MAX_DEPTH = 8
_PATCH_MARK = "_voicepay_pii_filter"
_configured_handlers: list[logging.Handler] = []


def _is_pii_name(name: object) -> bool:
    return any("pii" in part.lower() for part in str(name).split("."))


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def _has_card_number(value: object) -> bool:
    text = str(value)
    return mask_card_numbers(text) != text


def _sanitise(value: Any, depth: int = 0) -> Any:
    """``value`` with card numbers masked and ``pii`` keys dropped; the input is never mutated."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return mask_card_numbers(value)
    if depth >= _MAX_DEPTH:
        return mask_card_numbers(str(value))
    if isinstance(value, Mapping):
        return {k: _sanitise(v, depth + 1) for k, v in value.items() if not _is_pii_name(k)}
    if isinstance(value, list | tuple | set | frozenset):
        return [_sanitise(v, depth + 1) for v in value]
    # Other objects (ints included) are kept unless their text shows a card number.
    return mask_card_numbers(str(value)) if _has_card_number(value) else value


class PiiFilter(logging.Filter):
    """Removes ``*.pii.*`` attributes and masks card numbers; never drops a record.

    Masks the formatted message (collapsing ``msg``/``args`` into one masked string when either
    holds a card number), the remaining extras, the exception text and the stack text. If masking
    itself fails, the message and extras are withheld rather than risked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Sanitise ``record`` in place and keep it."""
        try:
            self._sanitise(record)
        except Exception:
            for name in [*_extras(record), "message"]:
                record.__dict__.pop(name, None)
            record.msg, record.args = _WITHHELD, None
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True

    def _sanitise(self, record: logging.LogRecord) -> None:
        for name in [name for name in vars(record) if _is_pii_name(name)]:
            delattr(record, name)
        self._sanitise_message(record)
        for name, value in _extras(record).items():
            setattr(record, name, _sanitise(value))
        if "message" in vars(record):
            record.message = mask_card_numbers(str(record.message))
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if _has_card_number(text):
                # Formatters fall back to exc_text when exc_info is gone (stdlib, LiveKit JSON).
                record.exc_text, record.exc_info = mask_card_numbers(text), None
        if record.exc_text:
            record.exc_text = mask_card_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_card_numbers(record.stack_info)

    @staticmethod
    def _sanitise_message(record: logging.LogRecord) -> None:
        args = record.args
        values = args.values() if isinstance(args, Mapping) else (args or ())
        try:
            formatted = record.getMessage()
        except Exception:
            formatted = f"{record.msg} {args!r}"
        if _has_card_number(formatted) or any(_has_card_number(v) for v in values):
            record.msg, record.args = mask_card_numbers(formatted), None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, call_id, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        payload = {str(k): _json_safe(v) for k, v in _extras(record).items()}
        payload.update(
            ts=datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
            call_id=payload.get("call_id") or call_id_var.get(),
        )
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc_info"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


def _json_safe(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v, depth + 1) for v in value]
    return str(value)


def _ensure_filter(handler: logging.Handler) -> None:
    if not any(isinstance(f, PiiFilter) for f in handler.filters):
        # First in line, so no other filter (e.g. an exporter's) sees the raw record.
        handler.filters.insert(0, PiiFilter())


def install_pii_filter() -> None:
    """Put a :class:`PiiFilter` on every handler, present and future, in this process; idempotent.

    Existing handlers of the root logger, of every named logger and ``logging.lastResort`` get
    one now. For handlers added later, ``logging.Logger.addHandler`` is wrapped: it is the path
    used by ``basicConfig``, ``dictConfig``, LiveKit's CLI and job processes, and pytest. A filter
    on handlers (rather than on loggers) is needed because logger filters do not apply to records
    propagated from child loggers, and LiveKit re-emits job-process records straight to handlers.
    Handlers appended to ``logger.handlers`` directly bypass the wrapper; call this again after
    such code.
    """
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in list(logger.handlers):
            _ensure_filter(handler)
    if logging.lastResort is not None:
        _ensure_filter(logging.lastResort)
    original: Callable[[logging.Logger, logging.Handler], None] = logging.Logger.addHandler
    if getattr(original, _PATCH_MARK, False):
        return

    def add_handler(self: logging.Logger, hdlr: logging.Handler) -> None:
        _ensure_filter(hdlr)
        original(self, hdlr)

    setattr(add_handler, _PATCH_MARK, True)
    logging.Logger.addHandler = add_handler  # type: ignore[method-assign]


def configure_logging(*, level: str, json_path: Path | None = None, console: bool = True) -> None:
    """Configure the root logger: console lines on stderr and/or JSON lines appended to a file.

    Calling it again replaces the handlers it added before. Installs :func:`install_pii_filter`.

    Raises:
        ValueError: unknown level name.
    """
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(levels)}")
    root = logging.getLogger()
    while _configured_handlers:
        handler = _configured_handlers.pop()
        root.removeHandler(handler)
        handler.close()
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        _configured_handlers.append(stream)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(json_path, encoding="utf-8")
        file_handler.setFormatter(JsonFormatter())
        _configured_handlers.append(file_handler)
    install_pii_filter()
    for handler in _configured_handlers:
        root.addHandler(handler)
    root.setLevel(levels[level.upper()])
