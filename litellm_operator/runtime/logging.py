"""Log setup: one line per record, as key=value text or as JSON, with context from `extra`.

Text::

    2026-12-04T20:00:00Z INFO controller=team namespace=a name=b msg="reconcile failed" error="..."

JSON lines carry the same keys: `time`, `level`, the context keys, `msg`, then `error` and
`stacktrace` when the record has an exception. Code logs with the stdlib and passes context in
`extra`. The LogRecord attribute names (`name`, `msg`, `args`, `module`...) cannot be `extra`
keys, so context that needs them goes in one dict under `log_fields`:
`logger.info("...", extra={"log_fields": {"controller": "team", "namespace": ns, "name": name}})`.
That is also what `runtime.controller.ReconcileLogAdapter` sends; it appends the same fields to
the message text for plain handlers, and this formatter strips that copy again.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Mapping
from typing import Any, TextIO

FORMATS = ("text", "json")
LOG_FIELDS = "log_fields"

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def record_context(record: logging.LogRecord) -> dict[str, Any]:
    """Return a record's context: the `log_fields` dict first, then the other `extra` keys."""
    context: dict[str, Any] = {}
    fields = getattr(record, LOG_FIELDS, None)
    if isinstance(fields, Mapping):
        context.update(fields)
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRIBUTES and key != LOG_FIELDS:
            context[key] = value
    return context


def record_message(record: logging.LogRecord) -> str:
    """Return the message without the key=value copy of `log_fields` that a log adapter appended."""
    message = record.getMessage()
    fields = getattr(record, LOG_FIELDS, None)
    if isinstance(fields, Mapping) and fields:
        suffix = " " + " ".join(f"{key}={quote(value)}" for key, value in fields.items())
        message = message.removesuffix(suffix)
    return message


def _format_time(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


def _error_fields(record: logging.LogRecord, context: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "error" in context:
        fields["error"] = context.pop("error")
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        fields.setdefault("error", f"{type(exc).__name__}: {exc}")
        fields["stacktrace"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return fields


class TextFormatter(logging.Formatter):
    """Format records as `time LEVEL key=value ... msg="..." error="..."`."""

    def format(self, record: logging.LogRecord) -> str:
        context = record_context(record)
        errors = _error_fields(record, context)
        stacktrace = errors.pop("stacktrace", None)
        parts = [_format_time(record), record.levelname]
        parts += [f"{key}={quote(value)}" for key, value in context.items()]
        parts.append(f"msg={quote(record_message(record))}")
        parts += [f"{key}={quote(value)}" for key, value in errors.items()]
        line = " ".join(parts)
        if stacktrace:
            line += "\n" + stacktrace
        return line


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        context = record_context(record)
        errors = _error_fields(record, context)
        fields: dict[str, Any] = {"time": _format_time(record), "level": record.levelname}
        fields.update(context)
        fields["msg"] = record_message(record)
        fields.update(errors)
        return json.dumps(fields, default=str, ensure_ascii=False)


def quote(value: Any) -> str:
    """Render a value for key=value text, quoting it when it is empty or has spaces, quotes or '='."""
    text = value if isinstance(value, str) else str(value)
    if text == "" or any(ch.isspace() or ch in '"=\\' or not ch.isprintable() for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def configure_logging(level: str | int = "info", fmt: str = "text", *, stream: TextIO | None = None) -> None:
    """Send all logs to `stream` (stderr by default) at `level` in the `fmt` format ("text" or "json")."""
    if fmt not in FORMATS:
        raise ValueError(f"invalid log format {fmt!r}, expected one of {', '.join(FORMATS)}")
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        raise ValueError(f"invalid log level {level!r}, expected debug, info, warning or error")

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    # aiohttp logs every probe and scrape at INFO; keep the operator's own lines readable.
    logging.getLogger("aiohttp.access").setLevel(max(numeric_level, logging.WARNING))


def log_fields(**fields: Any) -> dict[str, Any]:
    """Build the `extra` argument for key=value context: `logger.info("...", extra=log_fields(name=n))`."""
    return {LOG_FIELDS: fields}
