"""flowdesk.services."""
