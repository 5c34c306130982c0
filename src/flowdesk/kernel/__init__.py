"""Shared vocabulary every layer speaks: money, time, ids and errors."""
