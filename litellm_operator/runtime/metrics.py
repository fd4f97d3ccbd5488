"""Prometheus metrics with controller-runtime's names, on an injectable registry.

Dashboards and alerts written for controller-runtime operators work unchanged, because the
names, types and labels below are controller-runtime's and client-go's. Components receive a
``Metrics`` (or ``NoopMetrics``) object and call its methods. None of them touches a global
registry, so tests can create as many as they like and read values back from the registry.

Metric families:

- ``controller_runtime_reconcile_total{controller,result}`` with result ``success``, ``error``,
  ``requeue`` or ``requeue_after``; ``controller_runtime_reconcile_errors_total{controller}``;
  ``controller_runtime_reconcile_panics_total{controller}``;
  ``controller_runtime_reconcile_time_seconds{controller}``;
  ``controller_runtime_active_workers{controller}``;
  ``controller_runtime_max_concurrent_reconciles{controller}``.
- ``workqueue_depth``, ``workqueue_adds_total``, ``workqueue_queue_duration_seconds``,
  ``workqueue_work_duration_seconds``, ``workqueue_retries_total``,
  ``workqueue_unfinished_work_seconds`` and ``workqueue_longest_running_processor_seconds``,
  each labelled ``name`` (the queue's name, which is the controller's name).
- ``litellm_operator_litellm_requests_total{endpoint,code}`` and
  ``litellm_operator_litellm_request_duration_seconds{endpoint}``.
- ``leader_election_master_status{name}``: 1 while this process holds the lease, else 0.
"""

from __future__ import annotations

from collections.abc import Hashable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from litellm_operator.runtime.clock import Clock

RECONCILE_RESULTS = ("success", "error", "requeue", "requeue_after")

# controller-runtime's buckets for reconcile time, in seconds.
RECONCILE_TIME_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8,
    0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30,
    40, 50, 60,
)
# Ten-fold steps from 10 ns to 1000 s, for time spent waiting in and processing from a queue.
WORKQUEUE_DURATION_BUCKETS = tuple(1e-8 * 10**i for i in range(12))
# LiteLLM management calls take milliseconds to seconds; the client's timeout bounds the top.
LITELLM_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NoopQueueMetrics:
    """Queue metrics that record nothing."""

    def add(self, item: Hashable) -> None:
        pass

    def get(self, item: Hashable) -> None:
        pass

    def done(self, item: Hashable) -> None:
        pass

    def retry(self) -> None:
        pass


class QueueMetrics:
    """Metrics of one workqueue, updated by the queue on each add, get, done and retry.

    The queue calls ``add`` when an item becomes dirty, ``get`` when a worker takes it,
    ``done`` when the worker finishes it and ``retry`` for every ``add_after``. Unfinished work
    and the longest running processor are computed from the clock when the registry is scraped.
    """

    def __init__(self, metrics: Metrics, name: str, clock: Clock) -> None:
        self._clock = clock
        self._depth = metrics.workqueue_depth.labels(name=name)
        self._adds = metrics.workqueue_adds.labels(name=name)
        self._latency = metrics.workqueue_queue_duration.labels(name=name)
        self._work_duration = metrics.workqueue_work_duration.labels(name=name)
        self._retries = metrics.workqueue_retries.labels(name=name)
        # Monotonic time each dirty item was first added; removed when a worker takes it.
        self._add_times: dict[Hashable, float] = {}
        # Monotonic time each item in processing was taken by a worker; removed on done().
        self._processing_start_times: dict[Hashable, float] = {}

        metrics.workqueue_unfinished_work.labels(name=name).set_function(self._unfinished_work)
        metrics.workqueue_longest_running_processor.labels(name=name).set_function(
            self._longest_running_processor
        )

    def add(self, item: Hashable) -> None:
        self._adds.inc()
        self._depth.inc()
        self._add_times.setdefault(item, self._clock.monotonic())

    def get(self, item: Hashable) -> None:
        now = self._clock.monotonic()
        self._depth.dec()
        self._processing_start_times[item] = now
        added_at = self._add_times.pop(item, None)
        if added_at is not None:
            self._latency.observe(now - added_at)

    def done(self, item: Hashable) -> None:
        started_at = self._processing_start_times.pop(item, None)
        if started_at is not None:
            self._work_duration.observe(self._clock.monotonic() - started_at)

    def retry(self) -> None:
        self._retries.inc()

    def _unfinished_work(self) -> float:
        now = self._clock.monotonic()
        return sum(now - started for started in self._processing_start_times.values())

    def _longest_running_processor(self) -> float:
        now = self._clock.monotonic()
        return max((now - started for started in self._processing_start_times.values()), default=0.0)


class NoopMetrics:
    """Metrics that record nothing; the default of every component that takes ``metrics``."""

    registry: CollectorRegistry | None = None

    def queue_metrics(self, name: str, clock: Clock) -> NoopQueueMetrics | QueueMetrics:
        return NoopQueueMetrics()

    def init_controller(self, controller: str, max_concurrent_reconciles: int) -> None:
        pass

    def observe_reconcile(self, controller: str, result: str, seconds: float) -> None:
        pass

    def observe_reconcile_panic(self, controller: str) -> None:
        pass

    def add_active_workers(self, controller: str, delta: int) -> None:
        pass

    def observe_litellm_call(self, endpoint: str, code: int | str, seconds: float) -> None:
        pass

    def set_leader(self, name: str, is_leader: bool) -> None:
        pass


class Metrics(NoopMetrics):
    """All of the operator's metric families, registered on ``registry``.

    ``registry=None`` creates a private ``CollectorRegistry`` (exposed as ``self.registry``),
    so two ``Metrics`` objects never collide. Pass ``prometheus_client.REGISTRY`` to add the
    families to the process-wide registry, which also contains the process and Python collectors.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry

        self.reconcile_total = Counter(
            "controller_runtime_reconcile_total",
            "Total number of reconciliations per controller",
            ["controller", "result"], registry=reg,
        )
        self.reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total",
            "Total number of reconciliation errors per controller",
            ["controller"], registry=reg,
        )
        self.reconcile_panics = Counter(
            "controller_runtime_reconcile_panics_total",
            "Total number of reconciliations per controller that raised a BaseException that is not an Exception",
            ["controller"], registry=reg,
        )
        self.reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ["controller"], buckets=RECONCILE_TIME_BUCKETS, registry=reg,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            ["controller"], registry=reg,
        )
        self.max_concurrent_reconciles = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            ["controller"], registry=reg,
        )

        self.workqueue_depth = Gauge(
            "workqueue_depth", "Current depth of workqueue", ["name"], registry=reg,
        )
        self.workqueue_adds = Counter(
            "workqueue_adds_total", "Total number of adds handled by workqueue", ["name"], registry=reg,
        )
        self.workqueue_queue_duration = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            ["name"], buckets=WORKQUEUE_DURATION_BUCKETS, registry=reg,
        )
        self.workqueue_work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes",
            ["name"], buckets=WORKQUEUE_DURATION_BUCKETS, registry=reg,
        )
        self.workqueue_retries = Counter(
            "workqueue_retries_total", "Total number of retries handled by workqueue", ["name"], registry=reg,
        )
        self.workqueue_unfinished_work = Gauge(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and has not been observed "
            "by work_duration; large values indicate stuck workers",
            ["name"], registry=reg,
        )
        self.workqueue_longest_running_processor = Gauge(
            "workqueue_longest_running_processor_seconds",
            "How many seconds the longest running processor for workqueue has been running",
            ["name"], registry=reg,
        )

        self.litellm_requests = Counter(
            "litellm_operator_litellm_requests_total",
            "LiteLLM management API requests by endpoint and HTTP status code",
            ["endpoint", "code"], registry=reg,
        )
        self.litellm_request_duration = Histogram(
            "litellm_operator_litellm_request_duration_seconds",
            "Latency of LiteLLM management API requests in seconds",
            ["endpoint"], buckets=LITELLM_DURATION_BUCKETS, registry=reg,
        )

        self.leader_election_status = Gauge(
            "leader_election_master_status",
            "1 while this process is the leader of the named lease, else 0",
            ["name"], registry=reg,
        )

    def queue_metrics(self, name: str, clock: Clock) -> QueueMetrics:
        """Return the metrics of the workqueue ``name``, timed with ``clock``."""
        return QueueMetrics(self, name, clock)

    def init_controller(self, controller: str, max_concurrent_reconciles: int) -> None:
        """Create the controller's series at zero, so they are scraped before the first reconcile."""
        for result in RECONCILE_RESULTS:
            self.reconcile_total.labels(controller=controller, result=result)
        self.reconcile_errors.labels(controller=controller)
        self.reconcile_panics.labels(controller=controller)
        self.active_workers.labels(controller=controller).set(0)
        self.max_concurrent_reconciles.labels(controller=controller).set(max_concurrent_reconciles)

    def observe_reconcile(self, controller: str, result: str, seconds: float) -> None:
        """Count one reconcile by result, and as an error when ``result`` is ``"error"``."""
        if result not in RECONCILE_RESULTS:
            raise ValueError(f"unknown reconcile result {result!r}, expected one of {RECONCILE_RESULTS}")
        self.reconcile_total.labels(controller=controller, result=result).inc()
        if result == "error":
            self.reconcile_errors.labels(controller=controller).inc()
        self.reconcile_time.labels(controller=controller).observe(seconds)

    def observe_reconcile_panic(self, controller: str) -> None:
        self.reconcile_panics.labels(controller=controller).inc()

    def add_active_workers(self, controller: str, delta: int) -> None:
        self.active_workers.labels(controller=controller).inc(delta)

    def observe_litellm_call(self, endpoint: str, code: int | str, seconds: float) -> None:
        """Count one LiteLLM request; ``code`` is the HTTP status, or a word such as ``"timeout"``."""
        self.litellm_requests.labels(endpoint=endpoint, code=str(code)).inc()
        self.litellm_request_duration.labels(endpoint=endpoint).observe(seconds)

    def set_leader(self, name: str, is_leader: bool) -> None:
        self.leader_election_status.labels(name=name).set(1 if is_leader else 0)
