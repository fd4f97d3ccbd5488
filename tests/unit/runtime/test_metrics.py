import pytest
from prometheus_client import CollectorRegistry, generate_latest

from litellm_operator.runtime.clock import RealClock
from litellm_operator.runtime.metrics import Metrics, NoopMetrics, NoopQueueMetrics


def test_private_registries_do_not_collide():
    first = Metrics()
    second = Metrics()

    first.set_leader("lease", True)

    assert first.registry is not second.registry
    assert second.registry.get_sample_value("leader_election_master_status", {"name": "lease"}) is None


def test_injected_registry_is_used():
    registry = CollectorRegistry()

    metrics = Metrics(registry)

    assert metrics.registry is registry


def test_init_controller_creates_zero_series(metrics):
    metrics.init_controller("teams", 4)

    def value(name, **labels):
        return metrics.registry.get_sample_value(name, {"controller": "teams", **labels})

    for result in ("success", "error", "requeue", "requeue_after"):
        assert value("controller_runtime_reconcile_total", result=result) == 0
    assert value("controller_runtime_reconcile_errors_total") == 0
    assert value("controller_runtime_reconcile_panics_total") == 0
    assert value("controller_runtime_active_workers") == 0
    assert value("controller_runtime_max_concurrent_reconciles") == 4


def test_observe_reconcile_rejects_unknown_result(metrics):
    with pytest.raises(ValueError, match="unknown reconcile result"):
        metrics.observe_reconcile("teams", "ok", 0.1)


def test_litellm_call_counted(metrics):
    metrics.observe_litellm_call("/team/info", 404, 0.02)
    metrics.observe_litellm_call("/team/info", 200, 0.03)
    metrics.observe_litellm_call("/team/info", 200, 0.01)

    registry = metrics.registry
    assert registry.get_sample_value(
        "litellm_operator_litellm_requests_total", {"endpoint": "/team/info", "code": "200"}
    ) == 2
    assert registry.get_sample_value(
        "litellm_operator_litellm_requests_total", {"endpoint": "/team/info", "code": "404"}
    ) == 1
    assert registry.get_sample_value(
        "litellm_operator_litellm_request_duration_seconds_count", {"endpoint": "/team/info"}
    ) == 3


def test_leader_status_toggles(metrics):
    metrics.set_leader("litellm-operator", True)
    metrics.set_leader("litellm-operator", False)

    assert metrics.registry.get_sample_value(
        "leader_election_master_status", {"name": "litellm-operator"}
    ) == 0


def test_exposition_has_controller_runtime_names(metrics):
    metrics.init_controller("teams", 1)
    metrics.queue_metrics("teams", RealClock())

    text = generate_latest(metrics.registry).decode()

    for name in (
        "controller_runtime_reconcile_total",
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total",
        "controller_runtime_active_workers",
        "controller_runtime_max_concurrent_reconciles",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
    ):
        assert f"\n{name}{{" in text, name


def test_noop_metrics_accept_every_call():
    metrics = NoopMetrics()
    queue_metrics = metrics.queue_metrics("teams", RealClock())

    metrics.init_controller("teams", 1)
    metrics.observe_reconcile("teams", "success", 0.1)
    metrics.observe_reconcile_panic("teams")
    metrics.add_active_workers("teams", 1)
    metrics.observe_litellm_call("/team/new", 200, 0.1)
    metrics.set_leader("lease", True)

    assert isinstance(queue_metrics, NoopQueueMetrics)
    assert metrics.registry is None
