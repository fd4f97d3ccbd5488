"""Throwaway certificates that let the double serve HTTPS as a real kube-apiserver does.

Each `KubeApiServer` gets its own certificate authority, created at its first start and kept in
memory. trustme writes the server key to a temporary file only while the TLS context loads it.
The kubeconfig carries the CA as `certificate-authority-data`, so kubectl and kubernetes_asyncio
verify the server certificate and, over HTTPS, send the bearer token.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import attrs
import trustme

# Names every server certificate is valid for, besides the address the server binds to.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@attrs.frozen
class ServerCertificates:
    """A CA certificate in PEM and the server TLS context whose certificate that CA signed."""

    ca_pem: bytes
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        """Build a client TLS context that trusts only this CA and checks the host name."""
        return ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))


def issue_server_certificates(hosts: Iterable[str] = ()) -> ServerCertificates:
    """Create a new CA and a server certificate for `hosts` plus 127.0.0.1 and localhost.

    An IP address in `hosts` becomes an IP subject alternative name, anything else a DNS name.
    """
    identities = list(dict.fromkeys([*hosts, *LOOPBACK_NAMES]))
    authority = trustme.CA(organization_name="kube-api-server-double")
    leaf = authority.issue_cert(*identities)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return ServerCertificates(ca_pem=authority.cert_pem.bytes(), server_context=context)
