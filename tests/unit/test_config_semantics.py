"""Files that are valid YAML and valid sections, and still wrong as a whole: each gets
one located message in plain words, an error where it cannot work, a warning where it
is only risky."""

from __future__ import annotations

from pathlib import Path

from config.checks_numbers import covers, tokens
from config.loader import check_text

EXAMPLE = (Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml").read_text()
WEEK = [("mon", "08:00-20:00"), ("tue", "08:00-20:00"), ("wed", "08:00-20:00"),
        ("thu", "08:00-20:00"), ("fri", "08:00-20:00"), ("sat", "09:00-18:00"),
        ("sun", "09:00-18:00")]


def found(*edits: tuple[str, str]) -> list[str]:
    text = EXAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return [str(p).removeprefix("t.yaml:") for p in check_text(text, "t.yaml")[1]]


def test_business_hours_that_never_open() -> None:
    closed = [(f"    {day}: [{hours}]\n", f"    {day}: []\n") for day, hours in WEEK]
    assert found(*closed, ("      hours: [09:00-12:00]\n", "      hours: []\n")) == [
        "29:3: error: calendar.hours: the hotline is never open: no day here, and no holiday, "
        "has opening hours, so 'fault_report' (kind: hours) always sends callers to its "
        "closed branch; give the days their hours, e.g. mon: [08:00-20:00]"]
    assert found(*closed) == []  # National Day still opens


def test_a_closed_branch_that_comes_back_to_its_hours_node() -> None:
    loop = ("    closed: closed_then_self_service\n  fault_queue:",
            "    closed: fault_closed\n  fault_closed:\n    kind: play\n    prompt: closed\n"
            "    next: fault_report\n  fault_queue:")
    assert found(loop) == [
        "264:5: error: menus.fault_report.closed: out of hours, callers who reach "
        "'fault_report' can never leave: fault_report → fault_closed → fault_report loops "
        "with no queue, hangup or fallback to a person, since every 'hours' node sends them "
        "to its closed branch each time round; send the closed branch to a queue, a hangup "
        "or a person"]
    always = [(f"    {day}: [{hours}]\n", f"    {day}: [00:00-24:00]\n") for day, hours in WEEK]
    holidays = ("      hours: [09:00-12:00]\n", "      hours: [00:00-24:00]\n")
    spring = ("      name: Spring Festival eve\n      hours: []\n",
              "      name: Spring Festival eve\n      hours: [00:00-12:00, 12:00-24:00]\n")
    assert found(loop, *always, holidays, spring) == []  # never closed: the loop never runs


def test_overflow_into_itself_and_round_a_circle() -> None:
    to_itself = ("    overflow: {after: 40s, to: general}", "    overflow: {after: 40s, to: vip}")
    assert found(to_itself) == [
        "380:32: error: queues.vip.overflow.to: queue 'vip' moves its callers into itself: "
        "that moves nobody; name another queue"]
    circle = found(("    max_wait: {after: 5m, then: callback}\n    service_level: {answered",
                    "    max_wait: {after: 5m, then: queue, target: fault_report}\n"
                    "    service_level: {answered"))
    assert circle == [
        "372:48: error: queues.general.max_wait.target: queues move callers round in a "
        "circle: general → fault_report → general; callers keep their arrival time, so once "
        "they have waited past every step they would be moved back and forth for ever; end "
        "the chain at a queue that moves nobody on"]


def test_a_tier_promised_more_than_its_queue_allows_is_a_warning() -> None:
    assert found(("    overflow: {after: 40s, to: general}\n",
                  "    max_wait: {after: 30s, then: callback}\n")) == [
        "416:37: warning: vip.tiers.gold.max_wait: gold callers are promised to be served "
        "next after 40s, but queue 'vip' ends their wait at 30s (its max_wait), so the "
        "promise is never reached; make it shorter, or the queue's max_wait longer"]


def test_caller_patterns_shadowed_or_repeated() -> None:
    first = "caller_routes:\n"
    assert found((first, "caller_routes:\n  - callers: _.\n    start: main\n")) == [
        "26:14: error: caller_routes[1].callers: every number _1990000XXXX matches is matched "
        "first by _. (caller route 1), so this route never applies; put the narrower pattern "
        "above the wider one"]
    assert found((first, "caller_routes:\n  - callers: _1990000XXXX\n    start: main\n")) == [
        "26:14: error: caller_routes[1].callers: _1990000XXXX is already the pattern of caller "
        "route 1, above: this route never applies; delete one of them"]
    assert found((first, "caller_routes:\n  - callers: _1[3-\n    start: main\n")) == [
        "24:14: error: caller_routes[0].callers: the '[' in _1[3- is never closed: write a "
        "range like [1-5]"]
    wider = {"_.": ["_X", "_1[3-5]X.", "_NXX!", "_+86.", "_X!"], "_1!": ["_1", "_1X."],
             "_X.": ["_1X", "_[0-9]XXX.", "_XX!"], "_1[3-5]X": ["_14X", "_13[0-9]"],
             "_NXXXXXX": ["_2XXXXXX", "_[2-9]XXXXXX"]}
    narrower = {"_X.": ["_X", "_.", "_X!", "_+86."], "_1X.": ["_1", "_1!"],
                "_NXXXXXX": ["_1XXXXXX", "_XXXXXXX", "_NXXXXX"], "_1[3-5]X": ["_16X"]}
    for wide, patterns in wider.items():
        for pattern in patterns:
            assert covers(tokens(wide), tokens(pattern)), (wide, pattern)
    for wide, patterns in narrower.items():
        for pattern in patterns:
            assert not covers(tokens(wide), tokens(pattern)), (wide, pattern)


def test_a_legacy_number_that_is_the_unified_number() -> None:
    legacy = '    "189": installation      # installation\n'
    assert found((legacy, legacy + '    "10000": complaints\n')) == [
        "21:5: error: numbers.legacy.10000: 10000 is the unified number too: callers who dial "
        "it start at 'main' (numbers.start), never at 'complaints'; give this service its own "
        "number, or delete the line"]
    assert found((legacy, legacy + '    "10000": main\n')) == [
        "21:5: warning: numbers.legacy.10000: 10000 is the unified number already: this line "
        "adds nothing; delete it"]


def test_two_agents_on_one_phone() -> None:
    assert found(("    endpoint: PJSIP/agent-1002", "    endpoint: pjsip/agent-1001")) == [
        "344:15: error: agents.1002.endpoint: agents 1001 and 1002 are both on the phone "
        "pjsip/agent-1001: a call offered to one would ring the other's phone, and their "
        "states would mix; give each agent their own endpoint"]


def test_zero_and_absurd_durations() -> None:
    assert found(
        ("    timeout: 5s\n", "    timeout: 0\n"),
        ("    skills: {general: 6}\n", "    skills: {general: 6}\n    ring_timeout: 0s\n"),
        ("    max_wait: {after: 5m, then: callback}", "    max_wait: {after: 0, then: callback}"),
        ("{answered_within: 20s, target: 0.85}", "{answered_within: 1e9, target: 0.85}"),
        ("  delay: 1h", "  delay: 1000h"),
        ("    wrap_up: 10s\n", "    wrap_up: 0\n"),  # no wrap-up at all is fine
    ) == [
        "169:14: error: menus.main.timeout: 0s cannot work here: callers get no time to press "
        "a key; give a few seconds, e.g. 5s",
        "367:19: error: queues.general.ring_timeout: 0s cannot work here: an agent's phone "
        "would stop ringing as it starts, so no agent could answer; give e.g. 15s",
        "373:23: error: queues.general.max_wait.after: 0s cannot work here: callers would be "
        "moved on the moment they join the queue, before any agent could take them; give "
        "e.g. 5m",
        "374:38: error: queues.general.service_level.answered_within: 1e9 is about 32 years, "
        "longer than any call lasts: write seconds (30), or 30s, 2m, 1h",
        "430:10: error: sampling.delay: 1000h is about 42 days, longer than any survey "
        "waits: write seconds (30), or 30s, 2m, 1h",
    ]
    assert found(("    timeout: 5s\n", "    timeout: inf\n"))[0].endswith(
        "'inf' is not a duration: write seconds (30), or 30s, 2m, 1h30m")


def test_the_no_agent_warning_says_relaxing_only_when_the_queue_relaxes() -> None:
    assert found(("    skills: {complaints: 7}\n    relax:\n      - after: 45s\n"
                  "        min_proficiency: 4\n", "    skills: {complaints: 10}\n")) == [
        "393:3: warning: queues.complaints: no agent can serve queue 'complaints' (needs "
        "complaints ≥ 10): its callers would wait for nobody"]
    assert found(("    skills: {complaints: 7}\n", "    skills: {complaints: 10}\n"),
                 ("        min_proficiency: 4\n", "        min_proficiency: 9\n"),
                 ("{complaints: 9, billing: 6", "{complaints: 8, billing: 6")) == [
        "393:3: warning: queues.complaints: no agent can serve queue 'complaints' (needs "
        "complaints ≥ 10, or at least 9 after relaxing): its callers would wait for nobody"]
