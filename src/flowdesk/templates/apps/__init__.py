"""Bundled app definitions (one YAML file per app), loaded by flowdesk.engines.apps."""
