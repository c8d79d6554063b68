"""isched envs."""
