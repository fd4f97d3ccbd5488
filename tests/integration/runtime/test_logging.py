"""Log line formats: key=value text and JSON lines with context from `extra`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from litellm_operator.runtime.logging import configure_logging, quote


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    output = io.StringIO()
    yield output
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_text_line(stream: io.StringIO) -> None:
    configure_logging("info", "text", stream=stream)

    logging.getLogger("test").error(
        "reconcile failed",
        extra={"log_fields": {"controller": "team", "namespace": "a", "name": "b"}, "error": "timed out after 30s"},
    )

    line = stream.getvalue().strip()
    assert line.endswith(' ERROR controller=team namespace=a name=b msg="reconcile failed" error="timed out after 30s"')
    assert line[:20].endswith("Z")


def test_json_line(stream: io.StringIO) -> None:
    configure_logging("debug", "json", stream=stream)

    logging.getLogger("test").debug("listed", extra={"resource": "teams", "count": 3})

    record = json.loads(stream.getvalue())
    assert record["level"] == "DEBUG"
    assert record["msg"] == "listed"
    assert record["resource"] == "teams"
    assert record["count"] == 3


def test_exception_fields(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)

    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("test").exception("failed")

    record = json.loads(stream.getvalue())
    assert record["error"] == "ValueError: bad value"
    assert "Traceback" in record["stacktrace"]


def test_level_filters(stream: io.StringIO) -> None:
    configure_logging("warning", "text", stream=stream)

    logging.getLogger("test").info("hidden")

    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", "plain"), ("two words", '"two words"'), ("", '""'), ('a"b', '"a\\"b"'), ("k=v", '"k=v"'), (3, "3")],
)
def test_quote(value: object, expected: str) -> None:
    assert quote(value) == expected


def test_invalid_format_rejected() -> None:
    with pytest.raises(ValueError, match="invalid log format"):
        configure_logging("info", "xml")


def test_adapter_fields_not_repeated(stream: io.StringIO) -> None:
    configure_logging("info", "text", stream=stream)
    fields = {"controller": "team", "namespace": "a", "name": "b", "reconcileID": "r1"}

    logging.getLogger("test").info(
        "reconciled controller=team namespace=a name=b reconcileID=r1", extra={"log_fields": fields}
    )

    assert stream.getvalue().strip().endswith(" INFO controller=team namespace=a name=b reconcileID=r1 msg=reconciled")
