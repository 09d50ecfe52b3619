"""Agents' phone settings: the YAML's `phones:` defaults and each agent's own, checked
like the rest of the file and rendered into the PJSIP endpoints Asterisk loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.loader import check, load_text
from config.model import HotlineConfig
from pbx.pjsip_agents import render

ROOT = Path(__file__).resolve().parents[2]
# The example without its `phones:` section (all defaults), so a test can give its own.
EXAMPLE = re.sub(r"^phones:\n(?:  .*\n)+", "", (ROOT / "config" / "hotline.yaml").read_text(),
                 flags=re.M)
FIRST_AGENT = """    endpoint: PJSIP/agent-1001
    skills: {billing: 9, general: 8, english: 6}
    wrap_up: 15s
"""
TLS = """phones:
  tls: {certificate: /etc/asterisk/keys/hotline.crt, key: /etc/asterisk/keys/hotline.key,
        ca: /etc/asterisk/keys/ca.crt, port: 5062}
"""


def with_phone(own: str, phones: str = "") -> str:
    assert FIRST_AGENT in EXAMPLE
    return EXAMPLE.replace(FIRST_AGENT, FIRST_AGENT + f"    phone: {own}\n") + phones


def rendered(config: HotlineConfig) -> dict[str, list[str]]:
    """Each section of the agents file as its lines (the endpoint's section first)."""
    text = render(((a.endpoint, config.phone(i)) for i, a in config.agents.items()), b"k",
                  config.phones)
    sections: dict[str, list[str]] = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(";")]
        if lines:
            sections.setdefault(lines[0], lines[1:])
    return sections


def test_a_phone_behind_nat_gets_the_three_nat_settings_and_one_on_the_lan_none() -> None:
    sections = rendered(load_text(with_phone("{network: behind_nat}")).config)
    remote, office = sections["[agent-1001]"], sections["[agent-1002]"]
    for setting in ("rtp_symmetric = yes", "force_rport = yes", "rewrite_contact = yes"):
        assert setting in remote and setting not in office
    assert "direct_media = no" in remote and "transport = transport-udp" in office


def test_encryption_codecs_and_transport_follow_the_agent_over_the_defaults() -> None:
    config = load_text(with_phone("{transport: tls, encryption: dtls, codecs: [opus, g722]}",
                                  TLS + "  encryption: sdes\n")).config
    sections = rendered(config)
    own, other = sections["[agent-1001]"], sections["[agent-1002]"]
    assert "transport = transport-tls" in own and "allow = opus,g722" in own
    assert {"media_encryption = dtls", "dtls_verify = fingerprint",
            "dtls_auto_generate_cert = yes"} <= set(own)
    # The others keep the defaults: sdes over udp, HD first, then G.711.
    assert "media_encryption = sdes" in other and "allow = g722,ulaw,alaw" in other
    tls = sections["[transport-tls]"]
    assert {"protocol = tls", "bind = 0.0.0.0:5062",
            "cert_file = /etc/asterisk/keys/hotline.crt",
            "priv_key_file = /etc/asterisk/keys/hotline.key"} <= set(tls)
    assert "[transport-tcp]" not in sections  # nobody is on tcp


@pytest.mark.parametrize(("own", "phones", "where", "words"), [
    ("{transport: tls}", "", "agents.1001.phone.transport", "no certificate is configured"),
    ("{network: lan}", "phones: {transport: tls}\n", "phones.transport",
     "no certificate is configured"),
    ("{transport: tcp}", "", "agents.1001.phone.transport", "no TCP transport"),
])
def test_a_transport_without_what_it_needs_is_refused_at_its_line(
        tmp_path: Path, own: str, phones: str, where: str, words: str) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(with_phone(own, phones))
    _, problems = check(path)
    found = [p for p in problems if p.severity == "error" and words in p.message]
    assert found and found[0].path == where, problems
    line = path.read_text().splitlines()[found[0].line - 1]
    assert "transport" in line and line[found[0].column - 1:][:3] in ("tls", "tcp")


def test_sdes_over_udp_is_a_warning_and_a_codec_typo_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(with_phone("{encryption: sdes}"))
    _, problems = check(path)
    assert any(p.severity == "warning" and "travel in clear" in p.message for p in problems)
    path.write_text(with_phone("{codecs: [g729]}"))
    config, problems = check(path)
    assert config is None and any("agents.1001.phone.codecs" in p.path for p in problems)


def test_a_phone_change_reads_in_plain_words() -> None:
    from config.diff import describe_changes

    before = load_text(EXAMPLE).config
    after = load_text(with_phone("{network: behind_nat}",
                                 "phones: {auto_answer: alert-info}\n")).config
    assert describe_changes(before, after) == [
        "agent 1001 (Zhou Min): phone network: the hotline's (lan) → behind_nat",
        "phones auto answer: none → alert-info"]
