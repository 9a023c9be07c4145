"""The scheduler: deadline enforcement and reminders on time, by one process at a time (see runner.py)."""
