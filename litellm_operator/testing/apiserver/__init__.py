"""An in-process Kubernetes API server double for tests, benchmarks and demos.

See `KubeApiServer`. It speaks the kube-apiserver REST protocol over plain HTTP on 127.0.0.1, so
kubernetes_asyncio, plain aiohttp clients and kubectl can use it through a kubeconfig.
"""

from .server import KubeApiServer, RequestRecord

__all__ = ["KubeApiServer", "RequestRecord"]
