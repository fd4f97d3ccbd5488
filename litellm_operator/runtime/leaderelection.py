"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics and defaults.

A candidate reads the Lease every `retry_period`. It takes the Lease when it has no holder
(no Lease, or an empty holderIdentity) or when the holder has not renewed for
`lease_duration`. Expiry is judged by *our* observation: the time on our own monotonic clock
when we last saw the Lease record change, not the holder's renewTime, so clock skew between
machines cannot make a live leader look expired. Every write carries the resourceVersion we
read, so two candidates racing for the same Lease cannot both win (the loser gets 409).

The leader renews every `retry_period`. If no renewal succeeds for `renew_deadline`, it stops
being leader (the manager then stops its controllers). On a clean shutdown the leader releases
the Lease by clearing holderIdentity and setting leaseDurationSeconds to 1, so a successor
takes over at once (client-go's ReleaseOnCancel).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from datetime import datetime
from typing import Any

import aiohttp

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.kube import LEASES, ApiError, KubeClient, NotFound
from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

DEFAULT_LEASE_DURATION = 15.0
DEFAULT_RENEW_DEADLINE = 10.0
DEFAULT_RETRY_PERIOD = 2.0
# client-go waits retry_period * (1 + random * 1.2) between attempts to acquire.
JITTER_FACTOR = 1.2


def format_micro_time(value: datetime) -> str:
    """Format a metav1.MicroTime: UTC with exactly 6 fractional digits, as the API server requires."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Acquire, renew and release one Lease for one candidate identity."""

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        clock: Clock | None = None,
        lease_duration: float = DEFAULT_LEASE_DURATION,
        renew_deadline: float = DEFAULT_RENEW_DEADLINE,
        retry_period: float = DEFAULT_RETRY_PERIOD,
    ):
        if lease_duration <= renew_deadline:
            raise ValueError(
                f"lease_duration ({lease_duration}s) must be greater than renew_deadline ({renew_deadline}s)"
            )
        if renew_deadline <= retry_period * JITTER_FACTOR:
            raise ValueError(
                f"renew_deadline ({renew_deadline}s) must be greater than retry_period * {JITTER_FACTOR} ({retry_period}s)"
            )
        self._client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self._clock = clock or RealClock()
        self._lease_duration = lease_duration
        self._renew_deadline = renew_deadline
        self._retry_period = retry_period
        # The Lease spec last read or written, and our monotonic time when it last changed.
        self._observed_spec: dict[str, Any] | None = None
        self._observed_time = 0.0
        self._is_leader = False

    def is_leader(self) -> bool:
        return self._is_leader

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Try every retry_period until the Lease is ours (True) or `stop` is set (False)."""
        logger.info(
            "attempting to acquire leader lease",
            extra=log_fields(namespace=self.namespace, name=self.name, identity=self.identity),
        )
        while not stop.is_set():
            if await self._try_acquire_or_renew():
                self._is_leader = True
                logger.info(
                    "acquired leader lease",
                    extra=log_fields(namespace=self.namespace, name=self.name, identity=self.identity),
                )
                return True
            delay = self._retry_period * (1 + random.random() * JITTER_FACTOR)
            if await _sleep_or_stop(self._clock, delay, stop):
                break
        return False

    async def renew_until_lost(self, stop: asyncio.Event) -> bool:
        """Renew every retry_period; return True when `stop` is set, False when leadership is lost.

        Each attempt is cut off at the renew deadline, so a slow API server cannot keep this
        replica believing it leads after a follower may have taken the Lease.
        """
        last_renew = self._clock.monotonic()
        while True:
            if await _sleep_or_stop(self._clock, self._retry_period, stop):
                return True
            remaining = self._renew_deadline - (self._clock.monotonic() - last_renew)
            try:
                renewed = await asyncio.wait_for(self._try_acquire_or_renew(), timeout=max(remaining, 0.001))
            except TimeoutError:
                renewed = False
                logger.warning(
                    "renewing the leader lease timed out",
                    extra=log_fields(namespace=self.namespace, name=self.name, timeout=round(remaining, 3)),
                )
            if renewed:
                last_renew = self._clock.monotonic()
                continue
            if self._clock.monotonic() - last_renew >= self._renew_deadline:
                self._is_leader = False
                logger.error(
                    "failed to renew leader lease within the deadline, leadership lost",
                    extra=log_fields(
                        namespace=self.namespace, name=self.name, identity=self.identity, deadline=self._renew_deadline
                    ),
                )
                return False

    async def release(self) -> None:
        """Give the Lease up if we hold it, so a successor does not wait for it to expire."""
        if not self._is_leader:
            return
        self._is_leader = False
        try:
            lease = await self._client.get(LEASES, self.namespace, self.name)
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.identity:
                return
            now = format_micro_time(self._clock.now())
            lease["spec"] = {
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": spec.get("leaseTransitions", 0),
            }
            await self._client.replace(LEASES, self.namespace, self.name, lease)
            logger.info(
                "released leader lease",
                extra=log_fields(namespace=self.namespace, name=self.name, identity=self.identity),
            )
        except (ApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.warning(
                "failed to release leader lease",
                extra=log_fields(namespace=self.namespace, name=self.name, error=str(error)),
            )

    async def _try_acquire_or_renew(self) -> bool:
        try:
            return await self._acquire_or_renew_once()
        except (ApiError, aiohttp.ClientError, TimeoutError) as error:
            logger.info(
                "leader lease attempt failed",
                extra=log_fields(namespace=self.namespace, name=self.name, identity=self.identity, error=str(error)),
            )
            return False

    async def _acquire_or_renew_once(self) -> bool:
        now = format_micro_time(self._clock.now())
        desired = {
            "holderIdentity": self.identity,
            # An integer in the API. Rounded up, so a follower never reads a shorter lease than ours.
            "leaseDurationSeconds": math.ceil(self._lease_duration),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }

        try:
            lease = await self._client.get(LEASES, self.namespace, self.name)
        except NotFound:
            body = {
                "apiVersion": LEASES.api_version,
                "kind": LEASES.kind,
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": desired,
            }
            created = await self._client.create(LEASES, self.namespace, body)
            self._observe(created)
            return True

        spec = lease.get("spec") or {}
        self._observe(lease)
        holder = spec.get("holderIdentity") or ""
        lease_valid = self._observed_time + float(spec.get("leaseDurationSeconds") or 0) > self._clock.monotonic()
        if holder and holder != self.identity and lease_valid:
            return False

        # Keep acquireTime and the transition count while renewing our own Lease.
        if holder == self.identity:
            desired["acquireTime"] = spec.get("acquireTime") or now
            desired["leaseTransitions"] = spec.get("leaseTransitions", 0)
        else:
            desired["leaseTransitions"] = int(spec.get("leaseTransitions", 0)) + 1
        lease["spec"] = desired
        updated = await self._client.replace(LEASES, self.namespace, self.name, lease)
        self._observe(updated)
        return True

    def _observe(self, lease: dict[str, Any]) -> None:
        spec = lease.get("spec") or {}
        if spec != self._observed_spec:
            self._observed_spec = dict(spec)
            self._observed_time = self._clock.monotonic()


async def _sleep_or_stop(clock: Clock, seconds: float, stop: asyncio.Event) -> bool:
    """Sleep on `clock` for `seconds` unless `stop` is set first; return whether it was set."""
    if stop.is_set():
        return True
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
    return stop.is_set()
