"""Structured logs: one JSON object per line, each carrying the request it belongs to.

Fields: ts, level, logger, msg, request_id, and for the line that closes a request
method, route (the template, never the raw path: paths can hold personal keys),
status and duration_ms; `exc` holds a traceback when there is one. The request id is
kept in a context variable, so lines logged deep inside a service carry it too.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("flowdesk_request_id", default=None)

# Extra attributes a record may carry (logger.info(..., extra={...})) that become fields.
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "client_disconnected")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# For `uvicorn.run(..., log_config=LOG_CONFIG)`: uvicorn applies it in every process it
# starts (`serve --workers N` spawns fresh ones). uvicorn's access log is off: flowdesk's
# own request line replaces it, with the route template and the request id.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "flowdesk.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
    },
}


def configure() -> None:
    """JSON lines on stderr for every logger, outside uvicorn (e.g. `flowdesk worker`)."""
    logging.config.dictConfig(LOG_CONFIG)
