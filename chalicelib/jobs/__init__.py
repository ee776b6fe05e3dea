"""Scheduled jobs: key rotation and key deletion (see sweeps.py)."""
