"""flowdesk.engines.audit."""
