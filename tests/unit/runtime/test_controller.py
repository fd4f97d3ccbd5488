import asyncio
import logging
from datetime import timedelta

import pytest

from litellm_operator.runtime.controller import (
    Controller,
    ReconcileLogAdapter,
    Request,
    Result,
    format_log_fields,
    is_status_only_update,
)
from litellm_operator.runtime.ratelimit import ItemExponentialFailureRateLimiter

A = Request("default", "a")
B = Request("default", "b")


class ScriptedReconciler:
    """Reconciler that records each call and then runs ``behaviour(request)``."""

    def __init__(self, clock, behaviour=None):
        self.clock = clock
        self.behaviour = behaviour
        self.calls: list[tuple[float, Request]] = []
        self.call_events: asyncio.Queue[Request] = asyncio.Queue()

    async def reconcile(self, request):
        self.calls.append((self.clock.monotonic(), request))
        self.call_events.put_nowait(request)
        if self.behaviour is None:
            return Result()
        return await self.behaviour(request)

    def times(self):
        return [time for time, _ in self.calls]


class FakeInformer:
    def __init__(self):
        self.handlers = []

    def add_event_handler(self, handler):
        self.handlers.append(handler)


class Panic(BaseException):
    pass


def obj(name="a", *, rv="1", generation=1, namespace="default", **metadata):
    meta = {"name": name, "namespace": namespace, "resourceVersion": rv, **metadata}
    if generation is not None:
        meta["generation"] = generation
    return {"metadata": meta, "status": {}}


@pytest.fixture
async def running():
    """Start controllers in the background and stop them after the test."""
    tasks = []

    def start(controller):
        task = asyncio.create_task(controller.run())
        tasks.append(task)
        return task

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def make_controller(reconciler, clock, metrics, **kwargs):
    kwargs.setdefault("rate_limiter", ItemExponentialFailureRateLimiter(base_delay=1, max_delay=8))
    return Controller("widgets", reconciler, clock=clock, metrics=metrics, **kwargs)


def sample(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, {"controller": "widgets", **labels})


def test_request_str():
    assert str(Request("ns", "name")) == "ns/name"
    assert str(Request("", "cluster-wide")) == "cluster-wide"


def test_request_from_key_and_object():
    assert Request.from_key("ns/name") == Request("ns", "name")
    assert Request.from_key("name") == Request("", "name")
    assert Request.from_object(obj("x", namespace="team-a")) == Request("team-a", "x")


def test_result_accepts_timedelta():
    assert Result(requeue_after=timedelta(minutes=2)).requeue_after == 120.0


async def test_error_backoff_grows(clock, metrics, running):
    async def fail(request):
        raise RuntimeError("LiteLLM unavailable")

    reconciler = ScriptedReconciler(clock, fail)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(15)

    assert reconciler.times() == [0, 1, 3, 7, 15]
    assert controller.queue.num_requeues(A) == 5


async def test_error_backoff_capped(clock, metrics, running):
    async def fail(request):
        raise RuntimeError("still failing")

    reconciler = ScriptedReconciler(clock, fail)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(31)

    # Delays 1, 2, 4, 8 and then the 8 s cap.
    assert reconciler.times() == [0, 1, 3, 7, 15, 23, 31]


async def test_success_forgets_failures(clock, metrics, running):
    outcomes = [RuntimeError("first"), RuntimeError("second"), None]

    async def fail_twice(request):
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return Result()

    reconciler = ScriptedReconciler(clock, fail_twice)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(100)

    assert reconciler.times() == [0, 1, 3]
    assert controller.queue.num_requeues(A) == 0


async def test_none_result_is_success(clock, metrics, running):
    async def return_none(request):
        return None

    reconciler = ScriptedReconciler(clock, return_none)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.advance(0)

    assert sample(metrics, "controller_runtime_reconcile_total", result="success") == 1


async def test_requeue_after_delays_next_reconcile(clock, metrics, running):
    async def check_later(request):
        return Result(requeue_after=30)

    reconciler = ScriptedReconciler(clock, check_later)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(29)
    assert reconciler.times() == [0]

    await clock.advance(1)
    assert reconciler.times() == [0, 30]
    assert controller.queue.num_requeues(A) == 0
    assert sample(metrics, "controller_runtime_reconcile_total", result="requeue_after") == 2


async def test_requeue_after_resets_failures(clock, metrics, running):
    outcomes = [RuntimeError("first"), Result(requeue_after=30)]

    async def fail_then_requeue_after(request):
        outcome = outcomes.pop(0) if outcomes else Result()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    reconciler = ScriptedReconciler(clock, fail_then_requeue_after)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(1)

    assert reconciler.times() == [0, 1]
    assert controller.queue.num_requeues(A) == 0


async def test_requeue_uses_rate_limiter(clock, metrics, running):
    async def requeue(request):
        return Result(requeue=True)

    reconciler = ScriptedReconciler(clock, requeue)
    controller = make_controller(reconciler, clock, metrics)
    controller.enqueue(A)
    running(controller)
    await reconciler.call_events.get()
    await clock.wait_for_sleepers(1)

    await clock.advance(3)

    assert reconciler.times() == [0, 1, 3]
    assert sample(metrics, "controller_runtime_reconcile_total", result="requeue") == 3
    assert sample(metrics, "controller_runtime_reconcile_errors_total") == 0


async def test_exception_keeps_worker_alive(clock, metrics, running):
    async def fail_on_a(request):
        if request == A:
            raise ValueError("invalid spec")
        return Result()

    reconciler = ScriptedReconciler(clock, fail_on_a)
    controller = make_controller(reconciler, clock, metrics)
    running(controller)

    controller.enqueue(A)
    assert await reconciler.call_events.get() == A
    controller.enqueue(B)
    assert await reconciler.call_events.get() == B


async def test_panic_keeps_worker_alive(clock, metrics, running):
    async def panic_on_a(request):
        if request == A:
            raise Panic("unexpected")
        return Result()

    reconciler = ScriptedReconciler(clock, panic_on_a)
    controller = make_controller(reconciler, clock, metrics)
    running(controller)

    controller.enqueue(A)
    await reconciler.call_events.get()
    controller.enqueue(B)
    assert await reconciler.call_events.get() == B
    assert sample(metrics, "controller_runtime_reconcile_panics_total") == 1
    assert controller.queue.num_requeues(A) == 1


async def test_stray_cancellation_is_an_error(clock, metrics, running):
    async def leak_cancellation(request):
        if request == A:
            raise asyncio.CancelledError()
        return Result()

    reconciler = ScriptedReconciler(clock, leak_cancellation)
    controller = make_controller(reconciler, clock, metrics)
    running(controller)

    controller.enqueue(A)
    await reconciler.call_events.get()
    controller.enqueue(B)
    assert await reconciler.call_events.get() == B
    assert sample(metrics, "controller_runtime_reconcile_errors_total") == 1


async def test_workers_never_share_a_key(clock, metrics, running):
    in_flight: set[Request] = set()
    overlaps: list[Request] = []
    max_in_flight = 0
    release = asyncio.Event()

    async def hold(request):
        nonlocal max_in_flight
        if request in in_flight:
            overlaps.append(request)
        in_flight.add(request)
        max_in_flight = max(max_in_flight, len(in_flight))
        await release.wait()
        in_flight.discard(request)
        return Result()

    reconciler = ScriptedReconciler(clock, hold)
    controller = make_controller(reconciler, clock, metrics, max_concurrent_reconciles=4)
    running(controller)
    keys = [Request("default", f"k{i}") for i in range(4)]
    for key in keys:
        controller.enqueue(key)
    for _ in keys:
        await reconciler.call_events.get()

    # Every key is held by a worker; adding them again must wait for done().
    for key in keys:
        controller.enqueue(key)
    assert sample(metrics, "controller_runtime_active_workers") == 4
    release.set()
    for _ in keys:
        await reconciler.call_events.get()
    await clock.advance(0)

    assert overlaps == []
    assert max_in_flight == 4
    assert len(reconciler.calls) == 8
    assert sample(metrics, "controller_runtime_active_workers") == 0


async def test_reconcile_metrics(clock, metrics, running):
    async def fail_on_a(request):
        if request == A:
            raise RuntimeError("boom")
        return Result()

    reconciler = ScriptedReconciler(clock, fail_on_a)
    controller = make_controller(reconciler, clock, metrics, max_concurrent_reconciles=2)
    running(controller)
    controller.enqueue(A)
    controller.enqueue(B)
    await reconciler.call_events.get()
    await reconciler.call_events.get()
    await clock.advance(0)

    assert sample(metrics, "controller_runtime_reconcile_total", result="success") == 1
    assert sample(metrics, "controller_runtime_reconcile_total", result="error") == 1
    assert sample(metrics, "controller_runtime_reconcile_total", result="requeue") == 0
    assert sample(metrics, "controller_runtime_reconcile_errors_total") == 1
    assert sample(metrics, "controller_runtime_reconcile_time_seconds_count") == 2
    assert sample(metrics, "controller_runtime_max_concurrent_reconciles") == 2
    assert metrics.registry.get_sample_value("workqueue_adds_total", {"name": "widgets"}) == 2


async def test_error_log_line(clock, metrics, running, caplog):
    async def fail(request):
        raise RuntimeError("team not found")

    reconciler = ScriptedReconciler(clock, fail)
    controller = make_controller(reconciler, clock, metrics)
    running(controller)
    caplog.set_level(logging.ERROR, logger="litellm_operator.runtime.controller")

    controller.enqueue(A)
    await reconciler.call_events.get()
    await clock.advance(0)

    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith('Reconciler error error="RuntimeError: team not found" retries=1')
    assert "controller=widgets namespace=default name=a reconcileID=" in message


async def test_reconcile_id_visible_to_reconciler(clock, metrics, running, caplog):
    seen = []
    adapter = ReconcileLogAdapter(logging.getLogger("widgets.reconciler"))

    async def log_something(request):
        adapter.info("Observed team")
        return Result()

    reconciler = ScriptedReconciler(clock, log_something)
    controller = make_controller(reconciler, clock, metrics)
    running(controller)
    caplog.set_level(logging.INFO, logger="widgets.reconciler")

    controller.enqueue(A)
    controller.enqueue(B)
    await reconciler.call_events.get()
    await reconciler.call_events.get()
    await clock.advance(0)

    for record in caplog.records:
        message = record.getMessage()
        assert message.startswith("Observed team controller=widgets namespace=default name=")
        seen.append(message.rpartition("reconcileID=")[2])
    assert len(seen) == 2
    assert seen[0] != seen[1]


def test_log_fields_quote_spaces():
    assert format_log_fields({"a": "x", "b": "two words", "c": ""}) == 'a=x b="two words" c=""'


async def test_shutdown_waits_for_reconcile(clock, metrics, running):
    release = asyncio.Event()
    finished = []

    async def slow(request):
        await release.wait()
        finished.append(request)
        return Result()

    reconciler = ScriptedReconciler(clock, slow)
    controller = make_controller(reconciler, clock, metrics)
    run = running(controller)
    controller.enqueue(A)
    await reconciler.call_events.get()
    controller.enqueue(B)

    shutdown = asyncio.create_task(controller.shutdown(drain_timeout=10))
    await clock.wait_for_sleepers(1)
    assert not shutdown.done()

    release.set()
    await shutdown
    await run
    assert finished == [A]


async def test_shutdown_cancels_after_timeout(clock, metrics, running):
    cancelled = []

    async def stuck(request):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(request)
            raise

    reconciler = ScriptedReconciler(clock, stuck)
    controller = make_controller(reconciler, clock, metrics)
    run = running(controller)
    controller.enqueue(A)
    await reconciler.call_events.get()

    shutdown = asyncio.create_task(controller.shutdown(drain_timeout=10))
    await clock.wait_for_sleepers(1)
    await clock.advance(10)

    await shutdown
    await run
    assert cancelled == [A]


async def test_run_stops_when_cancelled(clock, metrics):
    reconciler = ScriptedReconciler(clock)
    controller = make_controller(reconciler, clock, metrics, max_concurrent_reconciles=3)
    run = asyncio.create_task(controller.run())
    await asyncio.sleep(0)

    run.cancel()

    with pytest.raises(asyncio.CancelledError):
        await run
    assert controller.queue.shutting_down


def test_rejects_zero_workers(clock):
    with pytest.raises(ValueError, match="at least 1"):
        Controller("widgets", ScriptedReconciler(clock), max_concurrent_reconciles=0)


@pytest.mark.parametrize(
    ("case", "old", "new", "status_only"),
    [
        ("status change", obj(rv="1"), obj(rv="2"), True),
        ("resync", obj(rv="1"), obj(rv="1"), False),
        ("spec change", obj(rv="1", generation=1), obj(rv="2", generation=2), False),
        ("label change", obj(rv="1"), obj(rv="2", labels={"team": "x"}), False),
        ("annotation change", obj(rv="1", annotations={"a": "1"}), obj(rv="2", annotations={"a": "2"}), False),
        ("finalizer added", obj(rv="1"), obj(rv="2", finalizers=["f"]), False),
        ("deletion started", obj(rv="1"), obj(rv="2", deletionTimestamp="2025-01-01T00:00:00Z"), False),
        ("owner added", obj(rv="1"), obj(rv="2", ownerReferences=[{"uid": "u"}]), False),
        ("empty labels same as none", obj(rv="1", labels={}), obj(rv="2"), True),
        ("no generation", obj(rv="1", generation=None), obj(rv="2", generation=None), False),
    ],
)
def test_status_only_update(case, old, new, status_only):
    assert is_status_only_update(old, new) is status_only, case


async def test_watch_own_skips_status_only(clock, metrics):
    informer = FakeInformer()
    controller = make_controller(ScriptedReconciler(clock), clock, metrics)
    controller.watch_own(informer)
    [handler] = informer.handlers

    handler.on_update(obj(rv="1"), obj(rv="2"))
    assert len(controller.queue) == 0

    handler.on_update(obj(rv="2"), obj(rv="3", generation=2))
    assert len(controller.queue) == 1
    controller.queue.shutdown()


async def test_watch_own_enqueues_add_delete_resync(clock, metrics):
    informer = FakeInformer()
    controller = make_controller(ScriptedReconciler(clock), clock, metrics)
    controller.watch_own(informer)
    [handler] = informer.handlers

    handler.on_add(obj("a"))
    handler.on_delete(obj("b"))
    handler.on_update(obj("c", rv="5"), obj("c", rv="5"))

    assert [await controller.queue.get() for _ in range(3)] == [
        Request("default", "a"), Request("default", "b"), Request("default", "c"),
    ]
    controller.queue.shutdown()


async def test_watch_mapped_maps_old_and_new(clock, metrics):
    informer = FakeInformer()
    controller = make_controller(ScriptedReconciler(clock), clock, metrics)

    def members_of_team(team):
        return [Request("default", member) for member in team["status"].get("members", [])]

    controller.watch_mapped(informer, members_of_team)
    [handler] = informer.handlers
    old = {**obj(rv="1"), "status": {"members": ["m1"]}}
    new = {**obj(rv="2"), "status": {"members": ["m2"]}}

    handler.on_update(old, new)

    assert [await controller.queue.get() for _ in range(2)] == [
        Request("default", "m1"), Request("default", "m2"),
    ]
    controller.queue.shutdown()


async def test_watch_mapped_survives_map_error(clock, metrics, caplog):
    informer = FakeInformer()
    controller = make_controller(ScriptedReconciler(clock), clock, metrics)

    def broken(obj):
        raise KeyError("spec")

    controller.watch_mapped(informer, broken)
    [handler] = informer.handlers

    handler.on_add(obj("x"))

    assert len(controller.queue) == 0
    assert "Mapping an event to requests failed controller=widgets namespace=default name=x" in caplog.text
    controller.queue.shutdown()
