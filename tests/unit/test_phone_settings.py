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
    assert "transport = hotline-tls" in own and "allow = opus,g722" in own
    # On the LAN, but on TLS: calls go down the phone's own connection.
    assert "rewrite_contact = yes" in own and "rewrite_contact = yes" not in other
    assert {"media_encryption = dtls", "dtls_verify = fingerprint",
            "dtls_auto_generate_cert = yes"} <= set(own)
    # The others keep the defaults: sdes over udp, HD first, then G.711.
    assert "media_encryption = sdes" in other and "allow = g722,ulaw,alaw" in other
    tls = sections["[hotline-tls]"]
    assert {"protocol = tls", "bind = 0.0.0.0:5062",
            "cert_file = /etc/asterisk/keys/hotline.crt",
            "priv_key_file = /etc/asterisk/keys/hotline.key"} <= set(tls)
    assert "[hotline-tcp]" not in sections  # nobody is on tcp
    assert not any(line.startswith("external_") for line in tls)  # Asterisk is not behind NAT


def test_asterisk_behind_nat_gives_remote_phones_its_public_address() -> None:
    config = load_text(with_phone("{transport: tls}", TLS + "  external_address: 203.0.113.7\n"
                                  "  local_nets: [10.0.0.0/8, 192.168.0.0/16]\n")).config
    tls = rendered(config)["[hotline-tls]"]
    assert {"external_signaling_address = 203.0.113.7", "external_media_address = 203.0.113.7",
            "local_net = 10.0.0.0/8", "local_net = 192.168.0.0/16"} <= set(tls)


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


def test_a_public_address_that_udp_phones_would_not_get_is_warned_at_its_line(
        tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(with_phone("{transport: tls}", TLS + "  external_address: 203.0.113.7\n"))
    _, problems = check(path)
    warned = [p for p in problems if "external_address" in p.message]
    assert warned and warned[0].severity == "warning" and warned[0].path == \
        "phones.external_address"
    assert "1001" not in warned[0].message and "1002" in warned[0].message  # 1001 is on tls
    line = path.read_text().splitlines()[warned[0].line - 1]
    assert line.strip().startswith("external_address")


def test_the_agents_list_says_what_the_last_call_ran_on() -> None:
    from hotline.cli.agents import PhoneStatus, last_call, list_table

    assert last_call("(g722)|1|1|1796190304") == "g722 srtp tls"
    assert last_call("(ulaw)|0||1796190304") == "ulaw rtp clear"
    assert last_call(None) == last_call("") == "-"
    config = load_text(with_phone("{transport: tls}", TLS)).config
    table = list_table(config, {"1001": PhoneStatus("yes", 1.5)},
                       {"1001": "(g722)|1|1|1796190304"}).splitlines()
    assert table[0].endswith("last call")
    row = next(line for line in table if line.startswith("1001 "))
    assert re.search(r" yes +1\.5 ms +tls +none +lan +g722,ulaw,alaw +g722 srtp tls$", row), row
    assert next(line for line in table if line.startswith("1002 ")).endswith(" -")


def test_the_qr_code_holds_the_account_a_phone_needs() -> None:
    from hotline.cli.agents import account_uri, qr_code

    uri = account_uri("agent-1001", "s3cret", "10.0.0.5:5061", "tls")
    assert uri == "sip:agent-1001:s3cret@10.0.0.5:5061;transport=tls"
    drawn = qr_code(uri).splitlines()
    # A square of the code's modules with its quiet zone, two rows per line.
    assert len(drawn) > 10 and len({len(line) for line in drawn if line}) == 1


def test_only_a_phone_asked_to_answer_by_itself_gets_the_pre_dial_handler() -> None:
    from hotline.desk.phones import auto_answer_option

    alert = load_text(with_phone("{auto_answer: alert-info}")).config
    call_info = load_text(with_phone("{auto_answer: call-info}")).config
    plain = load_text(with_phone("{auto_answer: none}")).config
    assert auto_answer_option(alert, "1001") == "b(hotline-auto-answer^s^1(alert-info))"
    assert auto_answer_option(call_info, "1001") == "b(hotline-auto-answer^s^1(call-info))"
    # No header asked for: no pre-dial handler at all, which would delay the ring.
    assert auto_answer_option(plain, "1001") == ""
    local = load_text(with_phone("{auto_answer: alert-info}").replace(
        "endpoint: PJSIP/agent-1001", "endpoint: Local/1001@agents")).config
    assert auto_answer_option(local, "1001") == ""  # not a SIP phone: no SIP header
