"""flowdesk.engines.access."""
