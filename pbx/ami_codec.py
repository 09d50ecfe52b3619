"""The AMI wire format with no I/O: bytes in, messages out; actions in, bytes out.

Kept apart from any socket so that it can be tested byte by byte and reused by every
adapter (the live connection, the benchmark, recorded streams).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Header names are kept as Asterisk spells them ("CommandId", "ActionID", "Uniqueid"):
# lower-casing every header of every event costs more than the few lookups that need care.
Message = dict[str, str]

_END = b"\r\n\r\n"


class AmiDecoder:
    """Splits a byte stream into AMI messages.

    Bytes are buffered and a message is decoded only once it is whole, so a UTF-8
    character split across two TCP reads (a Chinese caller name) arrives intact.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.banner: str | None = None

    def feed(self, data: bytes) -> list[Message]:
        return [message for block in self.blocks(data) if (message := parse_message(block))]

    def blocks(self, data: bytes) -> list[str]:
        """The text of each message made whole by `data`, not yet split into headers
        (`parse_message` does that): a reader that wants few of the events looks at the
        first line and parses only those."""
        buffer = self._buffer
        buffer += data
        if self.banner is None:
            # The greeting "Asterisk Call Manager/11.0.0" is one line, not a message.
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return []
            self.banner = buffer[:line_end].decode("utf-8", "replace")
            del buffer[: line_end + 2]
        end = buffer.rfind(_END) + 4
        if end < 4:
            return []
        # One decode for every whole message of the read. CR and LF are never part of a
        # multi-byte sequence, so the text splits exactly where the bytes would, and a bad
        # byte becomes the same U+FFFD as when each message was decoded alone.
        blocks = buffer[:end].decode("utf-8", "replace").split("\r\n\r\n")
        # Left over: "" unless the read ended in a run of CR LFs longer than one blank
        # line; such a run is ASCII, so it goes back as the bytes it came from.
        rest = blocks.pop().encode()
        buffer[:end] = rest
        return blocks


def parse_message(block: str) -> Message:
    message: Message = {}
    for line in block.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            # "Key:" with an empty value has no space after the colon.
            if line.endswith(":"):
                key, value = line[:-1], ""
            else:
                continue
        if key in message:
            # Repeated headers (the Output lines of a CLI command) keep every value.
            message[key] += "\n" + value
        else:
            message[key] = value
    return message


def header_safe(value: object) -> str:
    """A value as it may appear in one AMI header line.

    AMI ends a header at CR or LF, so a caller-controlled value (a caller ID name, typed
    digits) carrying them could start a header or a whole action of its own.
    """
    text = str(value)
    if "\r" in text or "\n" in text or "\0" in text:
        text = text.replace("\r", " ").replace("\n", " ").replace("\0", "")
    return text


ActionFields = Mapping[str, str | int | Sequence[str]]


def encode_action(fields: ActionFields) -> bytes:
    """The bytes of one action; a list value becomes one header per item (Variable: ...)."""
    lines: list[str] = []
    for key, value in fields.items():
        items = value if isinstance(value, list | tuple) else (value,)
        lines.extend(f"{header_safe(key)}: {header_safe(item)}" for item in items)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
