"""What the caller's key does at a menu, and which card numbers pass the check digit."""

from __future__ import annotations

from config.menus import Choice
from ivr.choices import GiveUp, Go, Retry, after_key, luhn_ok

MENU = Choice(kind="choice", prompt="main_menu", keys={"1": "balance", "0": "to_agent"},
              retries=2, invalid="invalid_choice", no_input="no_input", fallback="goodbye")
PLAIN = Choice(kind="choice", prompt="main_menu", keys={"1": "balance"}, retries=0)


def test_a_listed_key_goes_to_its_node_at_any_attempt() -> None:
    assert after_key(MENU, "1", 1) == Go("balance")
    assert after_key(MENU, "0", 3) == Go("to_agent")
    assert after_key(MENU, "0", 99) == Go("to_agent")


def test_a_wrong_key_or_silence_replays_with_its_own_prompt() -> None:
    assert after_key(MENU, "7", 1) == Retry("invalid_choice")
    assert after_key(MENU, "", 1) == Retry("no_input")
    assert after_key(MENU, "#", 2) == Retry("invalid_choice")
    assert after_key(PLAIN, "", 0) == Retry(None)  # no prompt defined: just the menu again


def test_retries_two_means_three_tries_then_the_fallback() -> None:
    assert after_key(MENU, "7", 2) == Retry("invalid_choice")
    assert after_key(MENU, "7", 3) == GiveUp("goodbye")
    assert after_key(MENU, "", 3) == GiveUp("goodbye")


def test_no_fallback_gives_up_to_a_person() -> None:
    assert after_key(PLAIN, "5", 1) == GiveUp(None)
    assert after_key(PLAIN, "", 1) == GiveUp(None)


def test_valid_check_digits() -> None:
    for number in ("79927398713", "4539578763621486", "0", "18", "059", "6011111111111117"):
        assert luhn_ok(number), number


def test_wrong_check_digits_and_non_digits() -> None:
    for number in ("79927398710", "4539578763621487", "1", "81", "95", "6011111111111118",
                   "", "1234 5678", "12a", "-18"):
        assert not luhn_ok(number), number


def test_only_keypad_digits_pass_the_check_digit() -> None:
    assert luhn_ok("18")
    assert not luhn_ok("\uff11\uff18")  # full-width "18": no keys on a phone
    assert not luhn_ok("²")
