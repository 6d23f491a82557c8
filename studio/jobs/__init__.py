"""Durable background jobs: the scheduler, executors, retry policy and recovery (no Qt)."""
