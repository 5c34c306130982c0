"""flowdesk: self-hosted no-code work-order and approval platform."""

__version__ = "0.1.0"
