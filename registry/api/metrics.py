"""Prometheus metrics at /metrics: requests and latency by route template (never a path with a pseudonym in it),
and the registry's own figures read from the database at scrape time (the same from every worker):
case records, the review queue, lookups by outcome, the audit log's size and the age of its last checkpoint.

Requests and latency are counted per process; with several workers set PROMETHEUS_MULTIPROC_DIR (the
prometheus-client's multiprocess mode) or scrape each worker. Put /metrics behind the TLS proxy's allow-list:
it holds no personal data, but it is not for the public.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from registry.services.health import Figures

REGISTRY_METRICS = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("registry_http_requests", "HTTP requests by route template, method and status",
                   ["route", "method", "status"], registry=REGISTRY_METRICS)
LATENCY = Histogram("registry_http_request_seconds", "Time to answer, by route template",
                    ["route", "method"], registry=REGISTRY_METRICS,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def observe(route: str, method: str, status: int | str, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


class _RegistryFigures:
    """The registry's figures, read when scraped."""

    def __init__(self, figures: Figures):
        self.figures = figures

    def collect(self):  # noqa: ANN201 - the prometheus-client collector protocol
        f = self.figures
        records = GaugeMetricFamily("registry_case_records", "Case records by status", labels=["status"])
        for status, n in sorted(f.records.items()):
            records.add_metric([status], n)
        yield records
        yield GaugeMetricFamily("registry_review_queue_open_pairs", "Open pairs in the review queue",
                                value=f.queue_open)
        lookups = GaugeMetricFamily("registry_lookups", "Lookups answered, by outcome (from the audit log)",
                                    labels=["outcome"])
        for outcome, n in sorted(f.lookups.items()):
            lookups.add_metric([outcome], n)
        yield lookups
        yield GaugeMetricFamily("registry_audit_log_entries", "Entries in the audit log", value=f.audit_entries)
        if f.last_checkpoint_age_seconds is not None:
            yield GaugeMetricFamily("registry_audit_last_checkpoint_age_seconds",
                                    "Seconds since the last signed checkpoint", value=f.last_checkpoint_age_seconds)


def exposition(figures: Figures) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, with the registry's figures of this moment."""
    scrape = CollectorRegistry(auto_describe=True)
    scrape.register(_RegistryFigures(figures))
    return generate_latest(REGISTRY_METRICS) + generate_latest(scrape), CONTENT_TYPE_LATEST
