"""Who may do what on the web side, and how passwords are kept: pure."""

from __future__ import annotations

import pytest

from web.accounts import (
    Account,
    AccountError,
    MoveAsked,
    MoveDenied,
    Role,
    check_password,
    check_username,
    hash_password,
    may_see_agent,
    may_watch_floor,
    move_asked,
    password_matches,
)

REASONS = {"1": "break", "2": "lunch"}
AGENT = Account("zhou", Role.AGENT, "1001")
OTHER_AGENT = Account("wu", Role.AGENT, "1002")
SUPERVISOR = Account("sue", Role.SUPERVISOR)


def test_a_password_matches_its_hash_only() -> None:
    stored = hash_password("correct horse battery")
    assert password_matches("correct horse battery", stored)
    assert not password_matches("correct horse batterY", stored)
    assert not password_matches("", stored)


def test_each_hash_has_a_salt_of_its_own() -> None:
    assert hash_password("same password 1") != hash_password("same password 1")
    assert hash_password("same password 1", b"s" * 16) == hash_password("same password 1",
                                                                        b"s" * 16)


@pytest.mark.parametrize("damaged", ["", "scrypt$", "md5$1$2$3$00$00",
                                     "scrypt$16384$8$1$zz$00", "scrypt$x$8$1$00$00"])
def test_a_damaged_hash_lets_nobody_in(damaged: str) -> None:
    assert not password_matches("anything at all", damaged)


@pytest.mark.parametrize("name", ["zhou", "zhou.min", "a1", "agent-1001", "x" * 32])
def test_usernames(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize("name", ["", "Zhou", "zhou min", "-zhou", "x" * 33, "zhou\r\n"])
def test_not_usernames(name: str) -> None:
    with pytest.raises(AccountError):
        check_username(name)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(AccountError, match="at least 10"):
        check_password("short")


def test_an_agent_moves_themself_as_from_the_phone() -> None:
    assert move_asked(AGENT, "1001", "ready", "", REASONS, True) == MoveAsked("go_ready")
    assert move_asked(AGENT, "1001", "not_ready", "2", REASONS, True) == \
        MoveAsked("go_not_ready", "lunch")
    assert move_asked(AGENT, "1001", "log_out", "", REASONS, True) == MoveAsked("log_out")


def test_an_agent_cannot_move_another_agent() -> None:
    denied = move_asked(AGENT, "1002", "log_out", "", REASONS, True)
    assert isinstance(denied, MoveDenied) and denied.status == 403
    assert not may_see_agent(AGENT, "1002")
    assert may_see_agent(AGENT, "1001")
    assert not may_see_agent(Account("nobody", Role.AGENT, ""), "")


def test_a_supervisor_takes_agents_out_of_the_matching_with_a_reason() -> None:
    assert move_asked(SUPERVISOR, "1002", "not_ready", "1", REASONS, True) == \
        MoveAsked("go_not_ready", "break (by sue)")
    assert move_asked(SUPERVISOR, "1002", "log_out", "2", REASONS, True) == \
        MoveAsked("log_out", "lunch (by sue)")
    for button in ("ready", "log_in", "wrap_up_done"):
        denied = move_asked(SUPERVISOR, "1002", button, "1", REASONS, True)
        assert isinstance(denied, MoveDenied) and denied.status == 403, button
    no_reason = move_asked(SUPERVISOR, "1002", "log_out", "", REASONS, True)
    assert isinstance(no_reason, MoveDenied) and no_reason.status == 400
    assert "1 break, 2 lunch" in no_reason.why


def test_nonsense_is_a_bad_request_and_an_unknown_agent_not_found() -> None:
    nonsense = move_asked(AGENT, "1001", "dance", "", REASONS, True)
    assert isinstance(nonsense, MoveDenied) and nonsense.status == 400
    unknown = move_asked(SUPERVISOR, "9999", "log_out", "1", REASONS, False)
    assert isinstance(unknown, MoveDenied) and unknown.status == 404
    reasonless = move_asked(AGENT, "1001", "not_ready", "7", REASONS, True)
    assert isinstance(reasonless, MoveDenied) and reasonless.status == 400


def test_the_wallboard_is_for_supervisors_and_admins() -> None:
    assert may_watch_floor(SUPERVISOR)
    assert may_watch_floor(Account("root", Role.ADMIN))
    assert not may_watch_floor(AGENT)
    assert not may_watch_floor(OTHER_AGENT)


def test_the_pages_have_every_word_in_both_languages() -> None:
    from web.words import WORDS

    assert set(WORDS["zh"]) == set(WORDS["en"])
    assert all(WORDS["zh"].values()) and all(WORDS["en"].values())
