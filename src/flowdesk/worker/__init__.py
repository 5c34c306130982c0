"""flowdesk.worker."""
