from __future__ import annotations

from ivr.welcome import WelcomePrompts, welcome_menu
from pbx.ports import Call, Digits


class ScriptedLine:
    """A caller who types what the script says; records what the caller heard."""

    def __init__(self, typed: str) -> None:
        self.call = Call("c", "ch", "1380", "", "10000")
        self.typed = typed
        self.heard: list[str] = []

    async def read_digits(self, prompt: str, *, timeout: float, max_digits: int) -> Digits:
        self.heard.append(prompt)
        return Digits(self.typed[:max_digits], timed_out=not self.typed)

    async def play(self, prompt: str, interrupt_keys: str = "") -> str:
        self.heard.append(prompt)
        return ""

    async def say_digits(self, digits: str, interrupt_keys: str = "") -> str:
        self.heard.append(f"digits:{digits}")
        return ""

    async def hang_up(self) -> None:
        self.heard.append("hangup")


async def test_the_key_is_said_back() -> None:
    line = ScriptedLine("4")
    outcome = await welcome_menu(line, WelcomePrompts())  # type: ignore[arg-type]
    assert outcome.key == "4"
    assert line.heard == ["hello", "you-entered", "digits:4", "goodbye", "hangup"]


async def test_silence_gets_an_apology_not_dead_air() -> None:
    line = ScriptedLine("")
    outcome = await welcome_menu(line, WelcomePrompts())  # type: ignore[arg-type]
    assert outcome.key == ""
    assert line.heard == ["hello", "vm-sorry", "goodbye", "hangup"]
