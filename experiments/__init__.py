"""isched experiments."""
