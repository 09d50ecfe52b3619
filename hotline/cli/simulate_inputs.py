"""The inputs of `hotline simulate` and `hotline simulate staff`: the YAML and the
traffic file, checked, with every problem on stderr; and the progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from redis.exceptions import RedisError
from tqdm import tqdm

from config.loader import check, check_traffic
from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.settings import Settings
from routing.callers import unfit_paths


@contextmanager
def progress_bar() -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr for a long run (none when stderr is not a terminal)."""
    with tqdm(total=1000, file=sys.stderr, disable=None, leave=False, unit="‰",
              desc="simulating", mininterval=0.5) as bar:
        def moved(share: float) -> None:
            bar.update(int(share * 1000) - bar.n)

        yield moved


def checked(path: Path) -> HotlineConfig | None:
    config, problems = check(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if config is None or any(p.severity == "error" for p in problems):
        return None
    return config


def checked_traffic(path: Path) -> Traffic | None:
    traffic, problems = check_traffic(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    return None if problems else traffic


def misfit_of(traffic: Traffic, config: HotlineConfig, path: Path) -> str | None:
    """Why the traffic cannot run on this YAML: a queue or an agent it does not have."""
    queues = sorted(set(traffic.queues) - set(config.queues))
    if queues:
        return f"{path} has no queue {', '.join(queues)}"
    agents = sorted(traffic.named_agents() - set(config.agents))
    if agents:
        return f"the traffic names agents {path} does not have: {', '.join(agents)}"
    paths = unfit_paths(traffic, config)
    if paths:
        return f"under {path}, " + "; ".join(paths)
    return None


def with_tiers(traffic: Traffic, path: Path, config: HotlineConfig,
               settings: Settings) -> Traffic | None:
    """The traffic with its `caller_numbers` looked up in the billing backend (as it is
    without them); None, with the reason on stderr, when they cannot be."""
    if traffic.caller_numbers is None:
        return traffic
    from hotline.cli.simulate_tiers import NoNumbers, with_looked_up_tiers

    try:
        looked_up, said = with_looked_up_tiers(traffic, path, config, settings)
    except NoNumbers as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return None
    except (RedisError, OSError) as exc:
        print(f"{path}: caller_numbers: the billing backend's Redis does not answer ({exc}): "
              "start it, or fix HOTLINE_REDIS_URL", file=sys.stderr)
        return None
    print(said)
    return looked_up
