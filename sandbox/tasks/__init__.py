"""Data only, seeded, no nn."""
