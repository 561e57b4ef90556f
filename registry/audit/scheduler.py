"""Checkpoints on a timer: the server signs and publishes checkpoints on its own.

`Checkpointer(log, tick)` runs a daemon thread that, every `tick` seconds, calls `log.maybe_checkpoint()`
(a checkpoint once `checkpoint_every` entries or entries older than `checkpoint_seconds` are not yet covered)
and `log.publish_pending()` (a witness that was down gets the latest checkpoint when it is back). Several
processes (server workers, the command line) may do this at once: a checkpoint of a size already signed by
another is taken as is. Failures are logged by type only and tried again at the next tick.
"""

from __future__ import annotations

import logging
import threading

from registry.audit.log import AuditLog

log = logging.getLogger("registry.audit")


class Checkpointer:
    def __init__(self, audit: AuditLog, tick: float = 5.0):
        self.audit = audit
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        try:
            self.audit.flush()  # events a crashed process committed but did not chain
            self.audit.maybe_checkpoint()
            self.audit.publish_pending()
        except Exception as e:  # noqa: BLE001 - the timer must outlive a database outage
            log.error("scheduled checkpoint failed: %s", type(e).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.run_once()

    def start(self) -> Checkpointer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="audit-checkpointer", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.run_once()  # what came in since the last tick is covered before the process ends
