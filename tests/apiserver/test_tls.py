"""TLS of the double: the kubeconfig's CA verifies the server, another CA does not, plain HTTP stays."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import pathlib
import ssl

import aiohttp
import pytest
import trustme
import yaml
from cryptography import x509

from litellm_operator.runtime.kube import NAMESPACES, KubeClient
from litellm_operator.testing.apiserver import KubeApiServer


def _kubeconfig_ca(path: pathlib.Path) -> bytes:
    document = yaml.safe_load(path.read_text())
    return base64.b64decode(document["clusters"][0]["cluster"]["certificate-authority-data"])


async def test_kubeconfig_ca_verifies_server(server: KubeApiServer, tmp_path: pathlib.Path) -> None:
    ca_pem = _kubeconfig_ca(server.write_kubeconfig(tmp_path / "kubeconfig"))
    context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))

    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        session.get(server.url + "/version") as response,
    ):
        assert response.status == 200
    _reader, writer = await asyncio.open_connection(server.host, server.port, ssl=context)
    peer_der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    await writer.wait_closed()

    assert server.url.startswith("https://127.0.0.1:")
    assert ca_pem == server.ca_pem
    names = x509.load_der_x509_certificate(peer_der).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)


async def test_other_ca_fails_verification(server: KubeApiServer) -> None:
    other_ca = trustme.CA()
    context = ssl.create_default_context(cadata=other_ca.cert_pem.bytes().decode("ascii"))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(server.url + "/version")

    assert server.request_log == []


async def test_system_trust_fails_verification(server: KubeApiServer) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(server.url + "/version")


async def test_kube_client_over_tls(server: KubeApiServer, tmp_path: pathlib.Path) -> None:
    client = await KubeClient.from_kubeconfig(str(server.write_kubeconfig(tmp_path / "kubeconfig")))
    try:
        listing = await client.list(NAMESPACES)
    finally:
        await client.close()

    assert {"team-a", "team-b"} <= {item["metadata"]["name"] for item in listing["items"]}
    last = server.request_log[-1]
    assert (last.verb, last.resource, last.status) == ("list", "namespaces", 200)


async def test_restart_keeps_ca(server: KubeApiServer) -> None:
    ca_pem = server.ca_pem
    await server.stop()
    await server.start()

    assert server.ca_pem == ca_pem


def test_write_kubeconfig_before_start_fails(tmp_path: pathlib.Path) -> None:
    server = KubeApiServer(crd_dir=None)

    with pytest.raises(RuntimeError, match=r"Call start\(\) first"):
        server.write_kubeconfig(tmp_path / "kubeconfig")


async def test_plain_http_mode(tmp_path: pathlib.Path) -> None:
    async with KubeApiServer(crd_dir=None, tls=False) as server:
        kubeconfig = yaml.safe_load(server.write_kubeconfig(tmp_path / "kubeconfig").read_text())
        client = await KubeClient.from_kubeconfig(str(tmp_path / "kubeconfig"))
        try:
            listing = await client.list(NAMESPACES)
        finally:
            await client.close()

    assert server.url.startswith("http://127.0.0.1:")
    assert server.ca_pem is None
    assert "certificate-authority-data" not in kubeconfig["clusters"][0]["cluster"]
    assert listing["kind"] == "NamespaceList"
    with pytest.raises(RuntimeError, match="plain HTTP"):
        server.client_ssl_context()
