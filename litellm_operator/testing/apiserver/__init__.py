"""An in-process Kubernetes API server double for tests, benchmarks and demos.

See `KubeApiServer`. It speaks the kube-apiserver REST protocol on 127.0.0.1 over HTTPS, with a
throwaway CA that its kubeconfig carries (or over plain HTTP with `tls=False`), so kubernetes_asyncio,
aiohttp clients and kubectl can use it through a kubeconfig.
"""

from .server import KubeApiServer, RequestRecord

__all__ = ["KubeApiServer", "RequestRecord"]
