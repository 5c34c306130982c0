"""flowdesk.store."""
