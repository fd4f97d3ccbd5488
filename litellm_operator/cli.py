"""Command line entry point: parse flags, build the manager, register the controllers, run.

Every flag can also be set by an environment variable named `LITELLM_OPERATOR_` plus the flag
name in upper case with dashes as underscores (`--sync-period` → `LITELLM_OPERATOR_SYNC_PERIOD`).
A flag on the command line wins over the variable. `--namespace` takes a comma-separated list
in its variable; `--litellm-url-override` also reads `LITELLM_URL_OVERRIDE`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import re
import signal
from collections.abc import Mapping, Sequence

import attrs
from kubernetes_asyncio.config import ConfigException

from litellm_operator import __version__
from litellm_operator.runtime.kube import KubeClient
from litellm_operator.runtime.logging import configure_logging, log_fields
from litellm_operator.runtime.manager import LeaderElectionLost, Manager

logger = logging.getLogger(__name__)

ENV_PREFIX = "LITELLM_OPERATOR_"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@attrs.frozen
class Options:
    """Settings from the command line, passed to `litellm_operator.controllers.setup`."""

    metrics_bind_address: str = ":8080"
    health_probe_bind_address: str = ":8081"
    leader_elect: bool = False
    leader_election_id: str = "litellm-operator-leader"
    leader_election_namespace: str | None = None
    namespaces: tuple[str, ...] = ()
    max_concurrent_reconciles: int = 1
    sync_period: float = 300.0
    log_level: str = "info"
    log_format: str = "text"
    kubeconfig: str | None = None
    litellm_url_override: str | None = None
    litellm_timeout: float = 30.0
    litellm_connect_timeout: float = 10.0


def parse_duration(value: str) -> float:
    """Parse a Go-style duration ("30s", "5m", "1h30m", "500ms") or plain seconds into seconds."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pos = 0
        seconds = 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
        if pos != len(text) or not text:
            raise argparse.ArgumentTypeError(
                f"invalid duration {value!r}, expected a number with a unit such as 30s, 5m or 1h"
            ) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"invalid duration {value!r}, it must be greater than zero")
    return seconds


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {value!r}, expected true or false")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}, it must be at least 1")
    return number


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """Build the argument parser; defaults come from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="litellm-operator",
        description="Kubernetes operator for LiteLLM proxy teams, users, virtual keys and team memberships.",
    )

    def env_default(flag: str, default: object, convert=str) -> object:  # type: ignore[no-untyped-def]
        raw = env.get(_env_name(flag))
        if raw is None:
            return default
        try:
            return convert(raw)
        except argparse.ArgumentTypeError as error:
            parser.error(f"{_env_name(flag)}: {error}")

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--metrics-bind-address",
        default=env_default("--metrics-bind-address", ":8080"),
        help='address of the Prometheus /metrics endpoint, as host:port or :port; "0" disables it (default :8080)',
    )
    parser.add_argument(
        "--health-probe-bind-address",
        default=env_default("--health-probe-bind-address", ":8081"),
        help='address of the /healthz and /readyz endpoints; "0" disables them (default :8081)',
    )
    parser.add_argument(
        "--leader-elect",
        nargs="?",
        const=True,
        type=_parse_bool,
        default=env_default("--leader-elect", False, _parse_bool),
        help="run leader election so that only one replica reconciles (default false)",
    )
    parser.add_argument(
        "--leader-election-id",
        default=env_default("--leader-election-id", "litellm-operator-leader"),
        help="name of the coordination.k8s.io Lease used for leader election",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=env_default("--leader-election-namespace", None),
        help="namespace of the Lease (default: the pod's namespace when running in a cluster)",
    )
    env_namespaces = env.get(_env_name("--namespace"))
    parser.add_argument(
        "--namespace",
        dest="namespaces",
        action="append",
        default=None,
        help="namespace to watch; repeat for several (default: all namespaces)",
    )
    parser.set_defaults(
        env_namespaces=[name.strip() for name in env_namespaces.split(",") if name.strip()] if env_namespaces else []
    )
    parser.add_argument(
        "--max-concurrent-reconciles",
        type=_positive_int,
        default=env_default("--max-concurrent-reconciles", 1, _positive_int),
        help="reconciles that may run at the same time per controller (default 1)",
    )
    parser.add_argument(
        "--sync-period",
        type=parse_duration,
        default=env_default("--sync-period", 300.0, parse_duration),
        help="interval of the drift check against LiteLLM, such as 30s, 5m or 1h (default 5m)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=env_default("--log-level", "info", str.lower),
        help="minimum level of log lines (default info)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=env_default("--log-format", "text", str.lower),
        help="log line format: key=value text or JSON (default text)",
    )
    parser.add_argument(
        "--kubeconfig",
        default=env_default("--kubeconfig", None),
        help="path of a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster config)",
    )
    parser.add_argument(
        "--litellm-url-override",
        default=env_default("--litellm-url-override", env.get("LITELLM_URL_OVERRIDE")),
        help=(
            "LiteLLM URL to use for every connection instead of the Secret's URL or the in-cluster "
            "service URL of an instanceRef, for running outside the cluster"
        ),
    )
    parser.add_argument(
        "--litellm-timeout",
        type=parse_duration,
        default=env_default("--litellm-timeout", 30.0, parse_duration),
        help="timeout of each LiteLLM API call, such as 10s (default 30s)",
    )
    parser.add_argument(
        "--litellm-connect-timeout",
        type=parse_duration,
        default=env_default("--litellm-connect-timeout", 10.0, parse_duration),
        help="timeout for opening a connection to LiteLLM, within --litellm-timeout (default 10s)",
    )
    return parser


def parse_options(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Options:
    """Parse the command line and the environment into `Options`."""
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    # argparse checks choices only for values given on the command line, not for env defaults.
    if args.log_level not in ("debug", "info", "warning", "error"):
        parser.error(f"invalid log level {args.log_level!r}, expected debug, info, warning or error")
    if args.log_format not in ("text", "json"):
        parser.error(f"invalid log format {args.log_format!r}, expected text or json")
    namespaces = args.namespaces if args.namespaces is not None else args.env_namespaces
    return Options(
        metrics_bind_address=args.metrics_bind_address,
        health_probe_bind_address=args.health_probe_bind_address,
        leader_elect=bool(args.leader_elect),
        leader_election_id=args.leader_election_id,
        leader_election_namespace=args.leader_election_namespace,
        namespaces=tuple(dict.fromkeys(namespaces)),
        max_concurrent_reconciles=args.max_concurrent_reconciles,
        sync_period=args.sync_period,
        log_level=args.log_level,
        log_format=args.log_format,
        kubeconfig=args.kubeconfig,
        litellm_url_override=args.litellm_url_override,
        litellm_timeout=args.litellm_timeout,
        litellm_connect_timeout=args.litellm_connect_timeout,
    )


def register_controllers(manager: Manager, options: Options) -> bool:
    """Call `litellm_operator.controllers.setup(manager, options)`; return False if it does not exist."""
    try:
        module = importlib.import_module("litellm_operator.controllers")
    except ImportError as error:
        logger.warning(
            "controllers package not importable, no controllers registered", extra=log_fields(error=str(error))
        )
        return False
    setup = getattr(module, "setup", None)
    if setup is None:
        logger.warning("litellm_operator.controllers has no setup function, no controllers registered")
        return False
    setup(manager, options)
    return True


async def run(options: Options, stop: asyncio.Event | None = None) -> int:
    """Run the operator until `stop` is set or SIGTERM/SIGINT arrives; return the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    if options.kubeconfig and not os.path.isfile(options.kubeconfig):
        raise FileNotFoundError(
            f"kubeconfig file {options.kubeconfig!r} not found; fix --kubeconfig or leave it unset "
            "to use $KUBECONFIG, ~/.kube/config or the in-cluster config"
        )
    client = await KubeClient.from_kubeconfig(options.kubeconfig)
    try:
        manager = Manager(
            client,
            namespaces=options.namespaces or None,
            metrics_bind_address=options.metrics_bind_address,
            health_probe_bind_address=options.health_probe_bind_address,
            leader_election=options.leader_elect,
            leader_election_id=options.leader_election_id,
            leader_election_namespace=options.leader_election_namespace,
        )
        register_controllers(manager, options)
        logger.info(
            "starting litellm-operator",
            extra=log_fields(
                version=__version__, namespaces=",".join(options.namespaces) or "*", leader_elect=options.leader_elect
            ),
        )
        await manager.run(stop)
        return 0
    except LeaderElectionLost as error:
        logger.error("exiting: %s", error)
        return 1
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    configure_logging(options.log_level, options.log_format)
    try:
        return asyncio.run(run(options))
    except (ValueError, OSError, ConfigException) as error:
        logger.error("operator failed to start", extra=log_fields(error=str(error)))
        return 1
