"""Manager: runs the shared informers, the controllers, the probes and leader election.

Start-up order, as in controller-runtime:

1. The HTTP servers start: `/metrics` on the metrics address, `/healthz` and `/readyz` on the
   health probe address. `/readyz` returns 503 until every informer has synced.
2. Every informer lists and starts watching. Informers run on every replica, leader or not, so a
   new leader has a warm cache.
3. With leader election on, the manager waits to acquire the Lease.
4. Controllers start only when the manager is leader and every informer has synced.

Shutdown starts when the `stop` event is set (the CLI sets it on SIGTERM or SIGINT). The
controllers' queues stop taking work and in-flight reconciles get `graceful_shutdown_timeout`
seconds to finish. Then the Lease is released, the informers stop, queued Events are written
and the HTTP servers close.
Losing the Lease while running stops the controllers the same way and raises
`LeaderElectionLost`, because another replica may already be reconciling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.events import EventRecorder
from litellm_operator.runtime.informer import Informer
from litellm_operator.runtime.kube import KubeClient, Resource
from litellm_operator.runtime.leaderelection import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_RENEW_DEADLINE,
    DEFAULT_RETRY_PERIOD,
    LeaderElector,
)
from litellm_operator.runtime.logging import log_fields
from litellm_operator.runtime.metrics import Metrics
from litellm_operator.runtime.reflector import DEFAULT_MIN_WATCH_TIMEOUT

logger = logging.getLogger(__name__)

DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT = 30.0
SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


class LeaderElectionLost(Exception):
    """The manager stopped because it could not renew its leader Lease."""


class RunnableController(Protocol):
    name: str

    async def run(self) -> None: ...

    async def shutdown(self, drain_timeout: float) -> None: ...


def parse_bind_address(address: str) -> tuple[str, int] | None:
    """Parse "host:port" (":8080" binds all interfaces, port 0 picks a free port); "0" disables."""
    if address in ("0", ""):
        return None
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        raise ValueError(f"invalid bind address {address!r}, expected host:port, :port or 0")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class Manager:
    """Owner of the shared informers, controllers, event recorders, probes and leader election."""

    def __init__(
        self,
        client: KubeClient,
        *,
        namespaces: Iterable[str] | None = None,
        metrics_bind_address: str = "0",
        health_probe_bind_address: str = "0",
        leader_election: bool = False,
        leader_election_id: str = "litellm-operator-leader",
        leader_election_namespace: str | None = None,
        leader_election_identity: str | None = None,
        lease_duration: float = DEFAULT_LEASE_DURATION,
        renew_deadline: float = DEFAULT_RENEW_DEADLINE,
        retry_period: float = DEFAULT_RETRY_PERIOD,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        resync_period: float | None = None,
        graceful_shutdown_timeout: float = DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT,
        min_watch_timeout: float = DEFAULT_MIN_WATCH_TIMEOUT,
        informer_backoff_initial: float = 0.8,
    ):
        self.client = client
        self.clock = clock or RealClock()
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.namespaces = sorted(set(namespaces)) if namespaces else None
        self._metrics_address = parse_bind_address(metrics_bind_address)
        self._health_address = parse_bind_address(health_probe_bind_address)
        self._resync_period = resync_period
        self._graceful_shutdown_timeout = graceful_shutdown_timeout
        self._min_watch_timeout = min_watch_timeout
        self._informer_backoff_initial = informer_backoff_initial

        self._informers: dict[Resource, Informer] = {}
        self._informer_tasks: dict[Resource, asyncio.Task[None]] = {}
        self._controllers: list[RunnableController] = []
        self._recorders: dict[str, EventRecorder] = {}
        self._runners: list[web.AppRunner] = []
        self._running = False

        self.leader_election_id = leader_election_id
        self._elector: LeaderElector | None = None
        # The Lease renewal task while controllers run, and the event that ends it at shutdown.
        self._renewal: asyncio.Task[bool] | None = None
        self._renew_stop = asyncio.Event()
        if leader_election:
            self._elector = LeaderElector(
                client,
                namespace=leader_election_namespace or _service_account_namespace(),
                name=leader_election_id,
                identity=leader_election_identity or f"{socket.gethostname()}_{uuid.uuid4()}",
                clock=self.clock,
                lease_duration=lease_duration,
                renew_deadline=renew_deadline,
                retry_period=retry_period,
            )

        self.metrics_port: int | None = None
        self.health_probe_port: int | None = None
        # Set once the HTTP servers listen (the ports above are known), and once the
        # controllers run (leader and synced).
        self.serving = asyncio.Event()
        self.controllers_started = asyncio.Event()

    @property
    def elector(self) -> LeaderElector | None:
        return self._elector

    def informer(self, resource: Resource) -> Informer:
        """Return the one shared informer of `resource`, over every watched namespace."""
        informer = self._informers.get(resource)
        if informer is None:
            informer = Informer(
                self.client,
                resource,
                namespaces=self.namespaces,
                resync_period=self._resync_period,
                clock=self.clock,
                min_watch_timeout=self._min_watch_timeout,
                backoff_initial=self._informer_backoff_initial,
            )
            self._informers[resource] = informer
            if self._running:
                self._start_informer(resource, informer)
        return informer

    def add_controller(self, controller: RunnableController) -> None:
        if self._running:
            raise RuntimeError(f"cannot add controller {controller.name!r}: the manager is already running")
        self._controllers.append(controller)

    def event_recorder(self, component: str) -> EventRecorder:
        recorder = self._recorders.get(component)
        if recorder is None:
            recorder = EventRecorder(self.client, component, clock=self.clock)
            self._recorders[component] = recorder
        return recorder

    def ready(self) -> bool:
        """Return True when every informer has delivered its first list."""
        return all(informer.has_synced() for informer in self._informers.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; raise `LeaderElectionLost` if the Lease could not be renewed."""
        self._running = True
        controller_tasks: list[asyncio.Task[None]] = []
        lost_leadership = False
        try:
            await self._start_http()
            self.serving.set()
            for resource, informer in self._informers.items():
                self._start_informer(resource, informer)

            if not await self._wait_for_sync(stop):
                return
            if self._elector is not None:
                if not await self._elector.acquire(stop):
                    return
                self.metrics.set_leader(self.leader_election_id, True)

            logger.info("starting controllers", extra=log_fields(count=len(self._controllers)))
            controller_tasks = [
                asyncio.create_task(controller.run(), name=f"controller-{controller.name}")
                for controller in self._controllers
            ]
            if self._elector is not None:
                # Renewal goes on until the controllers have drained at shutdown, so the Lease
                # stays ours while any reconcile may still write.
                self._renew_stop = asyncio.Event()
                self._renewal = asyncio.create_task(self._elector.renew_until_lost(self._renew_stop))
            self.controllers_started.set()
            lost_leadership = not await self._wait_while_running(stop, controller_tasks)
        finally:
            await self._shutdown(controller_tasks, release_lease=not lost_leadership)
        if lost_leadership:
            raise LeaderElectionLost(f"leader Lease {self.leader_election_id!r} could not be renewed")

    async def _wait_for_sync(self, stop: asyncio.Event) -> bool:
        waits = [asyncio.ensure_future(informer.wait_for_sync()) for informer in self._informers.values()]
        stopper = asyncio.ensure_future(stop.wait())
        try:
            pending = set(waits)
            while pending and not stop.is_set():
                _, pending = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
                pending.discard(stopper)
            if not stop.is_set():
                logger.info("caches synced", extra=log_fields(informers=len(self._informers)))
            return not stop.is_set()
        finally:
            for task in (*waits, stopper):
                task.cancel()

    async def _wait_while_running(self, stop: asyncio.Event, controller_tasks: list[asyncio.Task[None]]) -> bool:
        """Wait for `stop`; return False if leadership was lost first."""
        stopper = asyncio.ensure_future(stop.wait())
        watched: set[asyncio.Future[Any]] = {stopper}
        renewal = self._renewal
        if renewal is not None:
            watched.add(renewal)
        try:
            while True:
                done, _ = await asyncio.wait(watched | set(controller_tasks), return_when=asyncio.FIRST_COMPLETED)
                if renewal is not None and renewal in done and not renewal.result():
                    return False
                if stop.is_set():
                    return True
                for task in done:
                    if task in controller_tasks:
                        controller_tasks.remove(task)
                        if not task.cancelled() and task.exception() is not None:
                            logger.error(
                                "controller stopped with an error",
                                extra=log_fields(task=task.get_name()),
                                exc_info=task.exception(),
                            )
                            raise task.exception()  # type: ignore[misc]
        finally:
            stopper.cancel()

    async def _shutdown(self, controller_tasks: list[asyncio.Task[None]], *, release_lease: bool) -> None:
        # Stop taking work and let in-flight reconciles finish before the Lease goes, so a new
        # leader never reconciles an object that we are still writing. The Lease is renewed
        # meanwhile. If it is lost anyway, or was lost already, in-flight work is cancelled at
        # once, because another replica may be reconciling the same objects.
        renewal = self._renewal
        if controller_tasks:
            logger.info("stopping controllers", extra=log_fields(timeout=self._graceful_shutdown_timeout))
            drain = asyncio.ensure_future(
                asyncio.gather(*(controller.shutdown(self._graceful_shutdown_timeout) for controller in self._controllers))
            )
            waiters: set[asyncio.Future[Any]] = {drain}
            if release_lease and renewal is not None and not renewal.done():
                waiters.add(renewal)
            if release_lease:
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            else:
                done = set()
            if drain not in done:
                release_lease = False
                for task in controller_tasks:
                    task.cancel()
            await asyncio.gather(drain, return_exceptions=True)
            await asyncio.gather(*controller_tasks, return_exceptions=True)

        if renewal is not None:
            self._renew_stop.set()
            renewed = await asyncio.gather(renewal, return_exceptions=True)
            release_lease = release_lease and renewed[0] is True
            self._renewal = None

        if self._elector is not None:
            if release_lease:
                await self._elector.release()
            self.metrics.set_leader(self.leader_election_id, False)

        for task in self._informer_tasks.values():
            task.cancel()
        await asyncio.gather(*self._informer_tasks.values(), return_exceptions=True)
        self._informer_tasks.clear()

        for recorder in self._recorders.values():
            await recorder.close()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        self._running = False
        logger.info("manager stopped")

    def _start_informer(self, resource: Resource, informer: Informer) -> None:
        task = asyncio.create_task(informer.run(), name=f"informer-{resource.plural}")
        task.add_done_callback(_log_informer_end)
        self._informer_tasks[resource] = task

    async def _start_http(self) -> None:
        if self._metrics_address is not None:
            app = web.Application()
            app.router.add_get("/metrics", self._handle_metrics)
            self.metrics_port = await self._serve(app, self._metrics_address, "metrics")
        if self._health_address is not None:
            app = web.Application()
            app.router.add_get("/healthz", self._handle_healthz)
            app.router.add_get("/readyz", self._handle_readyz)
            self.health_probe_port = await self._serve(app, self._health_address, "health probe")

    async def _serve(self, app: web.Application, address: tuple[str, int], purpose: str) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, address[0], address[1])
        await site.start()
        port = runner.addresses[0][1]
        logger.info("serving HTTP", extra=log_fields(endpoints=purpose, host=address[0], port=port))
        return port

    async def _handle_metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _handle_healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _handle_readyz(self, request: web.Request) -> web.Response:
        if self.ready():
            return web.Response(text="ok")
        waiting = sorted(resource.plural for resource, informer in self._informers.items() if not informer.has_synced())
        return web.Response(status=503, text=f"informers not synced: {', '.join(waiting)}")


def _service_account_namespace() -> str:
    with contextlib.suppress(OSError), open(SERVICE_ACCOUNT_NAMESPACE_FILE) as handle:
        namespace = handle.read().strip()
        if namespace:
            return namespace
    raise ValueError(
        "leader election needs a namespace for its Lease: pass --leader-election-namespace when "
        f"running outside a cluster ({SERVICE_ACCOUNT_NAMESPACE_FILE} is missing)"
    )


def _log_informer_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "informer stopped with an error", extra=log_fields(task=task.get_name()), exc_info=task.exception()
        )
