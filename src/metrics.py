"""Every Prometheus metric of Syntra, defined once, shared by the services, the bot and the API.

Each process (the bot, the API) has its own copy of these counters in the default registry:
the API serves them at `/metrics`, the bot on METRICS_PORT (see docs/API.md). Prometheus adds
the `job`/`instance` labels that tell the processes apart. Several API workers share theirs
through prometheus-client's multiprocess mode (src/api/workers.py), so `/metrics` on any of
them reports the sum.

Labels only take values from small fixed sets (route templates, transaction types, outcomes),
never user ids or raw paths, so the number of series stays bounded.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from src.services.points_types import PointsOutcome

# Buckets in seconds, from a cached read (~1 ms) to a slow LLM answer.
_FAST: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS: Final = Counter(
    "syntra_http_requests",
    "HTTP requests served by the API, by route template, method and status",
    ["method", "route", "status"],
)
HTTP_LATENCY: Final = Histogram(
    "syntra_http_request_duration_seconds",
    "Time to serve an HTTP request, by route template and method",
    ["method", "route"],
    buckets=_FAST,
)

POINTS_OPERATIONS: Final = Counter(
    "syntra_points_operations",
    "PointsService calls that reached the ledger, by transaction type and outcome "
    "(awarded, partially_capped, debited, rate_limited, capped, insufficient_funds, duplicate)",
    ["type", "outcome"],
)
POINTS_MOVED: Final = Counter(
    "syntra_points_moved",
    "Points moved by the ledger, by transaction type and direction (credit or debit)",
    ["type", "direction"],
)

FAILURES_ABSORBED: Final = Counter(
    "syntra_failures_absorbed",
    "Failures absorbed so that a user's answer still went out (SPEC 6), by kind",
    ["kind"],
)

BOT_UPDATES: Final = Counter(
    "syntra_bot_updates",
    "Telegram updates handled by the bot, by update type and result (handled, error)",
    ["type", "result"],
)
WEBHOOK_DUPLICATES: Final = Counter(
    "syntra_webhook_duplicates",
    "Webhook deliveries of an update already handled (done) or in progress in a worker (busy)",
    ["state"],
)
BOT_UPDATE_LATENCY: Final = Histogram(
    "syntra_bot_update_duration_seconds",
    "Time from receiving an update to its handler returning, by update type",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

LLM_LATENCY: Final = Histogram(
    "syntra_llm_request_duration_seconds",
    "Time of one call to the LLM API, by result (ok, timeout, unavailable, not_configured)",
    ["result"],
    buckets=_SLOW,
)
VISION_REQUESTS: Final = Counter(
    "syntra_vision_requests",
    "Picture requests (a photo, an image file or an album), by outcome: answered, or why not "
    "(not_image, too_big, too_many_pixels, unreadable, download_failed, ai_error)",
    ["outcome"],
)
LLM_ERRORS: Final = Counter(
    "syntra_llm_errors",
    "LLM calls that produced no answer, by error class (timeout, unavailable, not_configured)",
    ["error"],
)

QUOTA_DECISIONS: Final = Counter(
    "syntra_quota_decisions",
    "Daily quota decisions, by action and result (granted, refused, replay, open: not "
    "counted because the database failed, released: given back by a request not served)",
    ["action", "result"],
)


def record_points(outcome: PointsOutcome) -> None:
    """Called once per ledger call from PointsService's single logging point (`_finish`)."""
    kind = outcome.transaction_type
    POINTS_OPERATIONS.labels(
        kind, "duplicate" if outcome.duplicate else outcome.outcome.value
    ).inc()
    if outcome.amount and not outcome.duplicate:
        direction = "credit" if outcome.amount > 0 else "debit"
        POINTS_MOVED.labels(kind, direction).inc(abs(outcome.amount))


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, with its content type: the default registry,
    or with several API workers (PROMETHEUS_MULTIPROC_DIR, src/api/workers.py) the sum over
    every worker, whichever of them answers the scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def serve(host: str, port: int) -> None:
    """Serve /metrics from a background thread (the bot process; the API has its own route)."""
    start_http_server(port, addr=host)
