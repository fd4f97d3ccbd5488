"""Command line parsing and a short run of the CLI against the API server double."""

from __future__ import annotations

import argparse
import asyncio
import logging

import pytest

from litellm_operator import cli
from litellm_operator.cli import Options, parse_duration, parse_options
from litellm_operator.testing.cluster import Cluster


def test_defaults() -> None:
    options = parse_options([], {})

    assert options == Options()
    assert options.metrics_bind_address == ":8080"
    assert options.health_probe_bind_address == ":8081"
    assert options.sync_period == 300.0


def test_flags() -> None:
    options = parse_options(
        ["--namespace", "a", "--namespace", "b", "--leader-elect", "--sync-period", "30s", "--log-format", "json"], {}
    )

    assert options.namespaces == ("a", "b")
    assert options.leader_elect is True
    assert options.sync_period == 30.0
    assert options.log_format == "json"


def test_litellm_timeouts() -> None:
    options = parse_options(["--litellm-timeout", "20s", "--litellm-connect-timeout", "2s"], {})
    from_environment = parse_options([], {"LITELLM_OPERATOR_LITELLM_CONNECT_TIMEOUT": "3s"})

    assert options.litellm_timeout == 20.0
    assert options.litellm_connect_timeout == 2.0
    assert from_environment.litellm_connect_timeout == 3.0


def test_environment() -> None:
    environ = {
        "LITELLM_OPERATOR_NAMESPACE": "a, b",
        "LITELLM_OPERATOR_LEADER_ELECT": "true",
        "LITELLM_OPERATOR_MAX_CONCURRENT_RECONCILES": "4",
        "LITELLM_OPERATOR_SYNC_PERIOD": "1h",
        "LITELLM_URL_OVERRIDE": "http://127.0.0.1:4000",
    }

    options = parse_options([], environ)

    assert options.namespaces == ("a", "b")
    assert options.leader_elect is True
    assert options.max_concurrent_reconciles == 4
    assert options.sync_period == 3600.0
    assert options.litellm_url_override == "http://127.0.0.1:4000"


def test_flag_wins_over_environment() -> None:
    environ = {"LITELLM_OPERATOR_LOG_LEVEL": "debug", "LITELLM_OPERATOR_LITELLM_URL_OVERRIDE": "http://127.0.0.1:1"}

    options = parse_options(["--log-level", "error", "--litellm-url-override", "http://127.0.0.1:2"], environ)

    assert options.log_level == "error"
    assert options.litellm_url_override == "http://127.0.0.1:2"


def test_invalid_environment_value() -> None:
    with pytest.raises(SystemExit):
        parse_options([], {"LITELLM_OPERATOR_SYNC_PERIOD": "soon"})


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5), ("45", 45)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "0s", "-1"])
def test_parse_duration_invalid(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


async def test_run_without_controllers(cluster: Cluster, caplog) -> None:
    options = parse_options(
        [
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--namespace",
            cluster.namespace,
            "--metrics-bind-address",
            "127.0.0.1:0",
            "--health-probe-bind-address",
            "127.0.0.1:0",
        ],
        {},
    )
    stop = asyncio.Event()
    stop.set()

    assert await cli.run(options, stop) == 0


def test_missing_kubeconfig_named(tmp_path, capsys) -> None:
    missing = tmp_path / "absent-kubeconfig"
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = cli.main(["--kubeconfig", str(missing), "--metrics-bind-address", "0", "--health-probe-bind-address", "0"])
    finally:
        # main() installs its own log handler on the root logger; put pytest's back.
        root.handlers[:] = handlers
        root.setLevel(level)

    assert code == 1
    assert f"kubeconfig file '{missing}' not found" in capsys.readouterr().err
