"""An agent's softphone that is a real one: Debian's baresip, run inside the sandbox's
chroot (sid's 1.1 honours the auto-answer headers; bookworm's 1.0 does not).

It speaks a tone from a file and keeps what it hears in another, has no audio device,
and is driven over baresip's own TCP control socket (`ctrl_tcp`, JSON in netstrings):
dial a feature code, hang up, quit. `-s` writes its SIP trace to the trace file.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.dev import sandbox
from hotline.dev.local_redis import free_port

# Baresip's names for the hotline's codecs (the SDP's G722/8000 is its G722/16000).
CODECS = {"g722": "G722/16000/1", "ulaw": "PCMU/8000/1", "alaw": "PCMA/8000/1",
          "opus": "opus/48000/2"}
MEDIA_ENCRYPTION = {"sdes": "srtp-mand", "dtls": "dtls_srtp"}


@dataclass(frozen=True, slots=True)
class Account:
    user: str
    password: str
    server: str  # host:port
    transport: str = "udp"
    encryption: str = "none"
    codecs: tuple[str, ...] = ("ulaw",)
    # The phone lets the PBX ask it to answer (Alert-Info/Call-Info); its own answer
    # mode stays manual, so it never answers unasked.
    header_auto_answer: bool = True


class Baresip:
    def __init__(self, box: sandbox.SandboxInstance, name: str, account: Account,
                 trace_dir: Path, voice_hz: int = 1000) -> None:
        self.box, self.account = box, account
        self.root = Path(str(box.state["root"]))
        self.inside = Path(str(box.state["instance_dir_in_chroot"])) / "phones" / name
        self.dir = self.root / self.inside.relative_to("/")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.trace = trace_dir / f"{name}.trace"  # outside the chroot: kept after the run
        self.heard = self.dir / "heard.wav"
        self.sip_port, self.control_port = free_port(), free_port()
        # At the codec's own rate: baresip 1.1's aufile does not resample, so an 8 kHz
        # file sent as G.722 comes out an octave high, a 16 kHz one as G.711 an octave low.
        rate = "16000" if account.codecs[0] in ("g722", "opus") else "8000"
        subprocess.run(["sox", "-n", "-r", rate, "-c", "1", "-b", "16",
                        str(self.dir / "speak.wav"), "synth", "120", "sine", str(voice_hz),
                        "vol", "0.4"], check=True)
        (self.dir / "config").write_text(self._config())
        (self.dir / "accounts").write_text(self._account_line() + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        modules = ["g711", "g722", "opus", "aufile", "srtp", "dtls_srtp"]
        return "\n".join([
            "poll_method epoll",
            "net_interface 127.0.0.1",  # its SDP names 127.0.0.1, where Asterisk is
            f"sip_listen 127.0.0.1:{self.sip_port}",
            f"sip_cafile {self.box.state['tls_ca_in_chroot']}",
            f"audio_source aufile,{self.inside / 'speak.wav'}",
            f"audio_player aufile,{self.inside / 'heard.wav'}",
            f"audio_alert aufile,{self.inside / 'alert.wav'}",
            "module_path /usr/lib/baresip/modules",
            *(f"module {m}.so" for m in modules),
            "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.control_port}",
            "sip_autoanswer_beep no", ""])

    def _account_line(self) -> str:
        a = self.account
        params = [f"auth_pass={a.password}", "regint=60",
                  f"audio_codecs={','.join(CODECS[c] for c in a.codecs)}"]
        if a.encryption in MEDIA_ENCRYPTION:
            params.append(f"mediaenc={MEDIA_ENCRYPTION[a.encryption]}")
        if a.header_auto_answer:
            params.append("sip_autoanswer=yes")
        return f"<sip:{a.user}@{a.server};transport={a.transport}>;" + ";".join(params)

    def start(self) -> None:
        self.trace.write_bytes(b"")
        with open(self.trace, "ab") as out:
            self.proc = subprocess.Popen(
                ["chroot", str(self.root), "baresip", "-f", str(self.inside), "-s"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.control_port), timeout=1).close()
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"baresip did not start:\n{self.trace_text()[-3000:]}")

    def command(self, command: str, params: str = "") -> dict[str, object]:
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as sock:
            sock.sendall(str(len(body)).encode() + b":" + body + b",")
            data = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                data += sock.recv(65536)
                for message in netstrings(data):
                    if message.get("response"):
                        return message
        raise AssertionError(f"baresip did not answer {command}")

    def dial(self, code: str) -> None:
        a = self.account
        # (baresip adds the account's transport to the URI itself)
        answer = self.command("dial", f"sip:{code}@{a.server}")
        assert answer.get("ok"), answer

    def trace_text(self) -> str:
        return self.trace.read_text(errors="replace") if self.trace.exists() else ""

    def stop(self) -> None:
        """Quit as a phone being switched off does: it unregisters first."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError, AssertionError):
            self.command("quit")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def netstrings(data: bytes) -> list[dict[str, object]]:
    """The whole JSON messages in `data` (`len:payload,` each)."""
    messages = []
    while b":" in data:
        size, _, rest = data.partition(b":")
        if not size.isdigit() or len(rest) < int(size) + 1:
            break
        messages.append(json.loads(rest[:int(size)]))
        data = rest[int(size) + 1:]
    return messages
