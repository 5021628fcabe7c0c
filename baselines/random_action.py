"""The random-action agent: uniform actions, no learning, same loop and metrics as PPO.

Selected with ``method=random``. Its policy lives with the others in ``curiosity/agent/``
(``curiosity/agent/random_policy.py``); this module keeps the name importable.
"""

from __future__ import annotations

from curiosity.agent.random_policy import RandomActionPolicy

__all__ = ["RandomActionPolicy"]
