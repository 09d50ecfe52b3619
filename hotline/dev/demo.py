"""`hotline demo`: the product working on one machine, in one command.

It brings up the local Asterisk sandbox and a private Redis, serves the example config
(agents 1002-1005 played by simulated phones that answer at once; 1001 is left for a
real softphone or the web desk), places three callers and prints what each of them
heard and pressed, and who took the call. Then, unless `--once`, it starts the web side,
prints its address, a login for an agent and a supervisor, and the SIP details for a
softphone, and keeps simulated callers coming until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import secrets
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from agents.state import Move
from hotline.billing.redis_store import RedisBilling
from hotline.calls.journal import caller_view
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis, free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import DEFAULT_CONFIG, Settings
from pbx.pjsip_agents import phone_password

# 'w' is half a second of pause between keys, as a caller listening to a prompt.
CALLERS = (
    SimulatedCaller(caller_number="13800000001", caller_name="Zhang Wei", keys="0", stay=40),
    SimulatedCaller(caller_number="13900000002", caller_name="Li Na", keys="0", stay=40),
    SimulatedCaller(caller_number="13700000003", caller_name="Wang Fang",
                    keys="9wwwwww0", stay=40),
)
VIP_CUSTOMERS = {"13900000002": "diamond"}


REAL_PHONE = "1001"  # the agent a newcomer's softphone (or the web desk) can be
SIMULATED = ("1002", "1003", "1004", "1005")
NEW_CALLER_EVERY = 4.0  # seconds, while the demo runs on


def demo_config(directory: Path) -> Path:
    """The example, with the agents' softphones but one played by simulated phones."""
    text = DEFAULT_CONFIG.read_text()
    for agent in SIMULATED:
        text = text.replace(f"PJSIP/agent-{agent}", f"Local/{agent}@sim-agent")
    path = directory / "hotline.yaml"
    path.write_text(text)
    return path


async def run_demo(keep: bool = False, once: bool = False) -> int:
    instance = f"demo-{os.getpid()}"
    print("starting the local Asterisk sandbox (the first run builds it, about a minute)...")
    box = await asyncio.to_thread(sandbox.start, instance, free_port(), free_port(),
                                  30000 + 2 * (os.getpid() % 5000))
    redis_server = LocalRedis().start()
    redis = connect(redis_server.url)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    settings = replace(Settings(ami=box.ami, redis_url=redis_server.url),
                       config_path=demo_config(workdir),
                       prompts_dir=Path(str(box.state["sounds_dir"])),
                       prompts_dir_asterisk=str(box.state["sounds_dir_in_chroot"]),
                       recordings_dir=Path(str(box.state["recordings_dir"])),
                       recordings_dir_asterisk=str(box.state["recordings_dir_in_chroot"]),
                       queue_log=Path(str(box.state["instance_dir"])) / "log" / "hotline_queue_log",
                       pjsip_agents_file=Path(str(box.state["instance_dir"])) / "etc"
                       / "pjsip_agents.conf",
                       secret_key=os.urandom(32))  # the demo's vouchers live one run
    engine = Engine(settings, redis)
    try:
        print("rendering the prompts (espeak-ng) and starting the engine...")
        await engine.start()
        now = time.time()
        for agent in SIMULATED:
            await engine.routing.apply(agent, Move.LOG_IN, now)
            await engine.routing.apply(agent, Move.GO_READY, now)
        # The customer directory is the billing backend: accounts carry the VIP tier.
        billing = engine.billing.backend(engine.live.config)
        if isinstance(billing, RedisBilling):
            for caller in CALLERS:
                await billing.open_account(caller.caller_number, 8_850, tier=VIP_CUSTOMERS.get(
                    caller.caller_number, "normal"))
        print(f"engine up: AMI {box.ami.host}:{box.ami.port}, Redis {redis_server.url}, "
              f"config version {engine.live.version}, "
              f"{len(SIMULATED)} simulated agents ready\n")
        started = time.monotonic()
        call_ids = []
        for caller in CALLERS:
            call_ids.append(await place_call(engine.originator, caller))
            await asyncio.sleep(0.3)
        all_ended = await _wait_ended(engine, call_ids, timeout=90)
        for caller, call_id in zip(CALLERS, call_ids, strict=True):
            await _tell(engine, caller, call_id)
        print(f"{len(call_ids)} calls in {time.monotonic() - started:.1f}s")
        if once or not all_ended:
            return 0 if all_ended else 1
        await _live_hotline(engine, box, redis_server.url, workdir)
        return 0
    finally:
        await engine.stop()
        await redis.aclose()
        redis_server.stop()
        if keep:
            print(f"sandbox '{instance}' left running: deploy/asterisk/sandbox "
                  f"--instance {instance} down")
        else:
            await asyncio.to_thread(sandbox.stop, instance)


async def _live_hotline(engine: Engine, box: sandbox.SandboxInstance, redis_url: str,
                        workdir: Path) -> None:
    """The web side and a steady flow of callers, until Ctrl-C."""
    web = await WebProcess(redis_url, engine.settings.key_prefix, workdir / "web.log",
                           recordings_dir=engine.settings.recordings_dir).start()
    try:
        agent_password, supervisor_password = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
        await web.add_account("agent1001", "agent", agent_password, REAL_PHONE, "Zhou Min")
        await web.add_account("supervisor", "supervisor", supervisor_password, name="Supervisor")
        phone = f"agent-{REAL_PHONE}"
        print(f"""the web side: {web.url}/
    agent desk:  {web.url}/desk       log in as agent1001 / {agent_password}
    wallboard:   {web.url}/wallboard  log in as supervisor / {supervisor_password}
    metrics:     {web.url}/metrics
a real softphone on this machine:
    as agent {REAL_PHONE}: register {phone}@127.0.0.1:{box.sip_port} (UDP), password \
{phone_password(engine.settings.secret_key, phone)}; dial *1 to log in, *3 for ready
    as a caller: dial sip:{engine.live.config.numbers.unified}@127.0.0.1:{box.sip_port} \
(no account needed from this machine)
simulated callers keep coming, one every {NEW_CALLER_EVERY:g}s; Ctrl-C stops the demo""",
              flush=True)
        for n in itertools.count():
            template = CALLERS[n % len(CALLERS)]
            await place_call(engine.originator, replace(
                template, call_id=f"sim-{uuid.uuid4().hex[:12]}", stay=random.uniform(8, 30),
                caller_number=template.caller_number if n % 5 == 1
                else f"138{random.randrange(10**8):08d}"))
            await asyncio.sleep(NEW_CALLER_EVERY)
    finally:
        await web.stop()


async def _tell(engine: Engine, caller: SimulatedCaller, call_id: str) -> None:
    record = await engine.call_log.record(call_id)
    steps = await engine.call_log.steps(call_id)
    tier = VIP_CUSTOMERS.get(caller.caller_number, "normal")
    keys = caller.keys.replace("w", "") or "nothing"
    print(f"caller {caller.caller_number} ({caller.caller_name}, {tier}) dials "
          f"{caller.dialled_number} and presses {keys}")
    for words in caller_view(steps):
        print(f"    {words}")
    routed = await engine.routing.call(call_id)
    if routed.get("agent"):
        agent = engine.live.config.agents[routed["agent"]]
        print(f"    answered by agent {routed['agent']} ({agent.name}) "
              f"from queue {routed['queue']}")
    print(f"    outcome: {record.get('outcome', 'still on the line')}\n")


async def _wait_ended(engine: Engine, call_ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [await engine.call_log.record(c) for c in call_ids]
        if all("ended" in r for r in records):
            return True
        await asyncio.sleep(0.2)
    logging.getLogger(__name__).error("some demo calls did not end within %ss", timeout)
    return False
