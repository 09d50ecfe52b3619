"""The first menu: welcome, one key, the key said back, goodbye.

It is the smallest menu that proves a caller's key reaches the engine and the engine's
words reach the caller; the YAML menu interpreter replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pbx.ports import CallControl


@dataclass(frozen=True, slots=True)
class WelcomePrompts:
    welcome: str = "hello"
    you_pressed: str = "you-entered"
    no_key: str = "vm-sorry"
    goodbye: str = "goodbye"
    key_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class WelcomeOutcome:
    key: str  # "" when the caller pressed nothing


async def welcome_menu(line: CallControl, prompts: WelcomePrompts) -> WelcomeOutcome:
    answer = await line.read_digits(prompts.welcome, timeout=prompts.key_timeout, max_digits=1)
    if answer.digits:
        await line.play(prompts.you_pressed)
        await line.say_digits(answer.digits)
    else:
        await line.play(prompts.no_key)
    await line.play(prompts.goodbye)
    await line.hang_up()
    return WelcomeOutcome(key=answer.digits)
