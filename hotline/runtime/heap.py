"""The garbage collector and a config version's objects.

A version of the routing YAML at 5,000 agents is some hundred thousand objects that live
until the next version. Left in the collector's generations, they are walked again by
every full collection: pauses of about 20 ms, each stalling every caller then arriving.
Frozen once the version is active, they are skipped until the next activation.
"""

from __future__ import annotations

import gc


def settle_after_activation() -> None:
    """Collect what the previous version left, then freeze what survives: the live
    version and the engine's long-lived objects."""
    gc.unfreeze()  # the previous version's objects may be garbage now
    gc.collect()
    gc.freeze()
