"""The server's log: one JSON object a line (structlog over the standard library's logging), so that a
ministry's log collector reads it as is.

What may be in a line: the time, the level, the logger, the event text, and what the code passes (route
templates, status codes, request ids, counts, error types). Never a plaintext identity, a pseudonym, a query
value or an exception's text: uvicorn's access log, which prints raw paths (a child's pseudonym is in some),
is turned off; the HTTP face logs the route template instead (`registry.api.guard`).
"""

from __future__ import annotations

import logging

import structlog


def configure_json_logs(level: str = "INFO") -> None:
    shared: list = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
        foreign_pre_chain=shared,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # raw paths: a pseudonym may be in one
    logging.getLogger("splink").setLevel(logging.WARNING)
