"""The server's log: one JSON object a line (structlog over the standard library's logging), so that a
ministry's log collector reads it as is.

What may be in a line: the time, the level, the logger, the event text, and what the code passes (route
templates, status codes, request ids, counts, error types). Never a plaintext identity, a pseudonym, a query
value or an exception's text: uvicorn's access log, which prints raw paths (a child's pseudonym is in some),
is turned off; the HTTP face logs the route template instead (`registry.api.guard`).

No request ever waits on the log: lines are formatted by the thread that logs them and handed to a bounded
queue, which one thread per process writes to standard error. Should standard error not be read (a pipe that
nobody drains: its 64 KiB buffer fills after some 400 requests), the writer thread blocks, the queue fills
and further lines are dropped and counted, instead of every request blocking in its log call. This was the
"stall under load" of docs/security.md.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue

import structlog

QUEUED_LINES = 10_000


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """Hands records to a bounded queue; when it is full, drops them and says how many once there is room."""

    def __init__(self, q: queue.Queue) -> None:
        super().__init__(q)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:
                note = logging.makeLogRecord({"name": "registry.logs", "levelno": logging.WARNING,
                                              "levelname": "WARNING", "msg": f"{self.dropped} log lines dropped: "
                                              "standard error was not read fast enough"})
                self.queue.put_nowait(self.prepare(note))
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


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
    # Formatted here, in the thread that logs; written by the listener's thread.
    lines: queue.Queue = queue.Queue(maxsize=QUEUED_LINES)
    handler = DroppingQueueHandler(lines)
    handler.setFormatter(formatter)
    writer = logging.StreamHandler()
    writer.setFormatter(logging.Formatter("%(message)s"))
    listener = logging.handlers.QueueListener(lines, writer)
    listener.start()
    atexit.register(listener.stop)  # what is queued is written before the process ends
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # raw paths: a pseudonym may be in one
    logging.getLogger("splink").setLevel(logging.WARNING)
