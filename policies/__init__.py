"""isched policies."""
