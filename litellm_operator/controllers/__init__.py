"""One reconciler per kind, and the wiring that registers them on a manager."""

from litellm_operator.controllers.setup import Operator, setup

__all__ = ["Operator", "setup"]
