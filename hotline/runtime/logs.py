"""How the engine's log lines look: plain text for a person at a terminal, or one JSON
object per line (`HOTLINE_LOG_FORMAT=json`) for operators who ship logs to a collector.

Every line about a call carries its `call_id`, so a collector can show one caller's
whole way through the engine. The id comes from the call's own asyncio context (set
once when the call's session starts: every task it spawns inherits it), and, for lines
logged outside that context, from the message itself ("call %s ..." is how the engine
words its lines about a call).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

LOG_FORMAT_VARIABLE = "HOTLINE_LOG_FORMAT"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_call_id: ContextVar[str | None] = ContextVar("hotline_call_id", default=None)

# A %-style conversion in a format string; "%%" is a literal percent and takes no arg.
_CONVERSION = re.compile(r"%(?:%|(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                         r"[diouxXeEfFgGcrsa])")
# "call %s", "call %r": the engine's wording for the call a line is about.
_CALL_ARG = re.compile(r"\bcall %[sr]")
# An id that looks like an Asterisk unique id ("1718000000.42"), found in the words.
_CALL_IN_TEXT = re.compile(r"\bcall '?(\d{6,}\.\d+)\b")
_ID_SHAPE = re.compile(r"[\w.:@-]{1,80}")


def current_call_id() -> str | None:
    return _call_id.get()


def bind_call(call_id: str) -> None:
    """Every log line from here on in this task (and the tasks it starts) is about
    `call_id`. For the first line of a task that serves one call: the task's context
    is its own copy, so the id goes away with the task and never leaks to another."""
    _call_id.set(call_id)


@contextmanager
def call_context(call_id: str) -> Iterator[None]:
    """The lines logged inside the block are about `call_id`."""
    token = _call_id.set(call_id)
    try:
        yield
    finally:
        _call_id.reset(token)


def call_id_in(record: logging.LogRecord) -> str | None:
    """Best effort: the call a line is about, from its words. First the argument that
    fills "call %s" in the message's format, then an Asterisk-style unique id after
    the word "call" in the finished message (a failure report that names its call)."""
    msg, args = record.msg, record.args
    if isinstance(msg, str) and isinstance(args, tuple) and args:
        found = _CALL_ARG.search(msg)
        if found is not None:
            index = sum(1 for c in _CONVERSION.findall(msg[:found.start()]) if c != "%%")
            if index < len(args):
                value = str(args[index]).strip("'\"")
                if _ID_SHAPE.fullmatch(value):
                    return value
    try:
        text = record.getMessage()
    except (TypeError, ValueError):
        return None
    found = _CALL_IN_TEXT.search(text)
    return found.group(1) if found else None


class CallIdFilter(logging.Filter):
    """Puts `call_id` on every record it sees (None when the line is about no call).
    Installed on the handler, so it sees the records of every logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "call_id", None) is None:
            record.call_id = current_call_id() or call_id_in(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and
    call_id, exception and stack when there are any. Newlines inside a message or a
    traceback are escaped by JSON, so a line is always one whole record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id is None:
            call_id = current_call_id() or call_id_in(record)
        if call_id is not None:
            entry["call_id"] = call_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Chinese caller names stay readable; anything json cannot encode is str()'d.
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format(env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """The format asked for, and a warning when the value is not one we know."""
    env = os.environ if env is None else env
    wanted = env.get(LOG_FORMAT_VARIABLE, "text").strip().lower() or "text"
    if wanted in FORMATS:
        return wanted, None
    return "text", (f"{LOG_FORMAT_VARIABLE}={env.get(LOG_FORMAT_VARIABLE)!r} is not a "
                    f"log format we know ({' or '.join(FORMATS)}): logging as text")


def handler_for(fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CallIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure(level: int, env: Mapping[str, str] | None = None) -> None:
    """The process's logging, once at start. Like `logging.basicConfig`, it leaves a
    logging setup already in place alone (a test runner's, an embedding program's)."""
    fmt, warning = log_format(env)
    logging.basicConfig(level=level, handlers=[handler_for(fmt)])
    if warning:
        logging.getLogger(__name__).warning(warning)
