"""Everything that decides: heuristics, planners and learned policies, behind one interface."""

from policies import cpsat_policy as _cpsat_policy  # noqa: F401  (registers "cpsat_rolling")
from policies import heuristics as _heuristics  # noqa: F401  (registers the heuristics)
from policies import hindsight as _hindsight  # noqa: F401  (registers "hindsight", a bound)
from policies import offline as _offline  # noqa: F401  (registers rl:MODEL_DIR; torch loads lazily)
from policies import planner as _planner  # noqa: F401  (registers "cpsat")
from policies import ppo as _ppo  # noqa: F401  (registers ppo:MODEL_PATH; sb3 loads lazily)
from policies import quality_known as _quality_known  # noqa: F401  (a reference, not online)
from policies.base import Policy, make_policy, policy_names, register_policy

__all__ = ["Policy", "make_policy", "policy_names", "register_policy"]
