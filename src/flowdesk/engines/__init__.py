"""flowdesk.engines."""
