"""App templates shipped with flowdesk, read with importlib.resources."""
