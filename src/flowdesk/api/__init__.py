"""flowdesk.api."""
