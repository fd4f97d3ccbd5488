"""Run the API server double standalone: `python -m litellm_operator.testing.apiserver`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from .server import DEFAULT_CRD_DIR, KubeApiServer

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve the Kubernetes API server double on 127.0.0.1 until SIGINT or SIGTERM.")
    parser.add_argument("--port", type=int, default=0, help="TCP port to listen on (default: a free port)")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the server to this path")
    parser.add_argument("--crd-dir", default=str(DEFAULT_CRD_DIR), help="directory of CRD YAML files to serve")
    parser.add_argument("--namespace", action="append", default=[], help="namespace to create at start (repeatable)")
    parser.add_argument("--plain-http", action="store_true",
                        help="serve plain HTTP instead of HTTPS with a throwaway CA (the kubeconfig then has no CA)")
    parser.add_argument("--allow-anonymous", action="store_true",
                        help="serve requests without credentials (needed for kubectl only with --plain-http, "
                             "because kubectl sends no token over plain HTTP)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = KubeApiServer(crd_dir=args.crd_dir, port=args.port, allow_anonymous=args.allow_anonymous,
                           tls=not args.plain_http)
    for namespace in args.namespace:
        server.create_namespace(namespace)
    await server.start()
    if args.kubeconfig:
        server.write_kubeconfig(args.kubeconfig)
    print(f"serving {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
