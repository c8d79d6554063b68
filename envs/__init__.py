"""The hiring season as a Gymnasium environment; ``import envs`` registers it."""

from gymnasium.envs.registration import register, registry

from envs.season_env import InterviewSchedulingEnv

ENV_ID = "isched/InterviewScheduling-v0"

if ENV_ID not in registry:
    register(id=ENV_ID, entry_point="envs.season_env:InterviewSchedulingEnv")

__all__ = ["ENV_ID", "InterviewSchedulingEnv"]
