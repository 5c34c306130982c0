"""flowdesk.engines.process."""
