"""Run the LiteLLM fake standalone: ``python -m litellm_operator.testing.litellm_fake``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .server import FakeLiteLLM


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake LiteLLM management API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=4000, help="TCP port on 127.0.0.1 (0 picks a free port)")
    parser.add_argument("--master-key", default="sk-fake-master", help="master key that callers must send")
    parser.add_argument("--latency", type=float, default=0.0, help="delay added to every response, in seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve(args.port, args.master_key, args.latency))


async def _serve(port: int, master_key: str, latency: float) -> None:
    fake = FakeLiteLLM(master_key, latency=latency)
    await fake.start(port)
    print(f"LITELLM_URL={fake.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    main()
