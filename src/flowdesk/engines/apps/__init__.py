"""flowdesk.engines.apps."""
