"""One JSON object per log line, for the server, gunicorn and uvicorn alike.

CloudWatch Logs Insights (and ``jq`` locally) can then filter on fields such as
``latency_ms`` or ``status`` without regular expressions.
"""

from __future__ import annotations

import json
import logging
import os
import time

# Attributes every LogRecord has; anything else was passed via ``extra=`` and is a field.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "color_message"}  # uvicorn's ANSI-coloured duplicate
)


class JsonFormatter(logging.Formatter):
    """Formats a record as ``{"ts": ..., "level": ..., "logger": ..., "message": ..., **extra}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(level: str | None = None) -> dict:
    """A ``logging.config.dictConfig`` dict routing every logger to stdout as JSON lines."""
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    quiet = {"level": level, "handlers": ["stdout"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": handler},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": quiet,
            # Requests are logged once, by the app, with latency; these would double them.
            "gunicorn.access": {**quiet, "level": "WARNING"},
            "uvicorn.error": quiet,
            "uvicorn.access": {**quiet, "level": "WARNING"},
        },
    }
