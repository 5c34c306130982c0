"""flowdesk.engines.forms."""
