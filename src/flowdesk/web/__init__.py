"""flowdesk.web."""
