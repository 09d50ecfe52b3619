"""`HOTLINE_LOG_FORMAT=json`: one JSON object per line, with the call's id on every line
about a call."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys

from hotline.runtime.logs import (
    CallIdFilter,
    JsonFormatter,
    bind_call,
    call_context,
    call_id_in,
    handler_for,
    log_format,
)


def record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("hotline.calls.sessions", logging.INFO, __file__, 1, msg,
                             args, exc_info)  # type: ignore[arg-type]


def shipped(*records: logging.LogRecord) -> list[dict[str, object]]:
    """The lines a handler in JSON mode writes, read back as a collector would."""
    out = io.StringIO()
    handler = handler_for("json")
    handler.setStream(out)  # type: ignore[attr-defined]
    for r in records:
        handler.handle(r)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(records)  # one line per record, newlines or not
    return [json.loads(line) for line in lines]


def test_a_line_has_time_level_logger_and_message() -> None:
    (line,) = shipped(record("AMI session up with %s:%s", "127.0.0.1", 5038))
    assert line["level"] == "INFO" and line["logger"] == "hotline.calls.sessions"
    assert line["message"] == "AMI session up with 127.0.0.1:5038"
    assert str(line["time"]).endswith("Z") and "T" in str(line["time"])
    assert "call_id" not in line and "exception" not in line


def test_the_call_id_from_the_calls_context() -> None:
    with call_context("1718000000.42"):
        (inside,) = shipped(record("recording started"))
    (outside,) = shipped(record("recording started"))
    assert inside["call_id"] == "1718000000.42" and "call_id" not in outside


async def test_a_task_bound_to_its_call_passes_the_id_to_the_tasks_it_starts() -> None:
    async def serve(call_id: str) -> list[str | None]:
        bind_call(call_id)

        async def helper() -> str | None:
            r = record("step stored")
            CallIdFilter().filter(r)
            return getattr(r, "call_id", None)

        return [await asyncio.create_task(helper())]

    # Each call's session is its own task, as the engine runs them.
    calls = [asyncio.create_task(serve("1.1")), asyncio.create_task(serve("2.2"))]
    assert await asyncio.gather(*calls) == [["1.1"], ["2.2"]]
    r = record("no call here")
    CallIdFilter().filter(r)
    assert r.call_id is None  # type: ignore[attr-defined]  # nothing leaked out


def test_the_call_id_from_the_words_when_no_context_says() -> None:
    assert call_id_in(record("call %s from %r to %s", "1718000000.7", "139", "10000")) \
        == "1718000000.7"
    assert call_id_in(record("Redis unavailable for call %s (%s)", "c-9", "down")) == "c-9"
    assert call_id_in(record("%s: %d%% done for call %s", "sweep", 50, "1718.5")) == "1718.5"
    # A failure report that names its call in an already formatted argument.
    assert call_id_in(record("%s failed: %s", "serving a call (call 1718000000.3)",
                             "boom")) == "1718000000.3"
    assert call_id_in(record("call records kept for %s days", 7)) is None
    assert call_id_in(record("call %s", "not an id, these are words")) is None


def test_an_exception_travels_as_text_on_the_same_line() -> None:
    try:
        raise RuntimeError("menu failed\nsecond line")
    except RuntimeError:
        r = record("menu failed for call %s; sending caller to a person", "1718000000.9",
                   exc_info=sys.exc_info())
    (line,) = shipped(r)
    assert line["call_id"] == "1718000000.9"
    assert "RuntimeError: menu failed" in str(line["exception"])
    assert "Traceback" in str(line["exception"])


def test_names_stay_readable() -> None:
    (line,) = shipped(record("caller name %s", "李娜"))
    assert line["message"] == "caller name 李娜"
    assert "李娜" in JsonFormatter().format(record("caller name %s", "李娜"))


def test_the_format_setting() -> None:
    assert log_format({}) == ("text", None)
    assert log_format({"HOTLINE_LOG_FORMAT": "JSON"}) == ("json", None)
    fmt, warning = log_format({"HOTLINE_LOG_FORMAT": "xml"})
    assert fmt == "text" and warning is not None and "text or json" in warning
