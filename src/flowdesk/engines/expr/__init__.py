"""flowdesk.engines.expr."""
