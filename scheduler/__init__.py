"""isched scheduler."""
