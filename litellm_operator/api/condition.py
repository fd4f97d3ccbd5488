"""The status condition type shared by all kinds (the Kubernetes metav1.Condition shape).

The runtime package owns `Condition` and its helpers. Until `litellm_operator.runtime.conditions`
exists, an equivalent attrs class is defined here so the api package works on its own.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime

import attrs

__all__ = ["Condition"]

if importlib.util.find_spec("litellm_operator.runtime.conditions") is not None:
    from litellm_operator.runtime.conditions import Condition
else:
    # NOTE: stand-in until runtime.conditions lands; it must keep the same field names.

    @attrs.define(kw_only=True)
    class Condition:  # type: ignore[no-redef]
        """One observed aspect of an object's state, such as Ready or Progressing.

        JSON names are the camelCase of the attribute names. `last_transition_time` changes only
        when `status` flips.
        """

        type: str
        status: str
        reason: str = ""
        message: str = ""
        observed_generation: int | None = None
        last_transition_time: datetime | None = None
