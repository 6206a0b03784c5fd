"""mTLS to subgraphs over real TLS: the subgraph requires a client certificate signed by its CA;
the gateway presents the one configured in [subgraphs.tls]."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.assembly import assemble
from gateway.config import Settings
from tests.http.servers import SUPERGRAPH_PATH, FakeSubgraph, me_answer, serve


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pki(directory: Path) -> dict[str, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Jama Jama test CA", ca_key, None, ca_key, ca=True)
    files = {"ca": directory / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for role, ip in (("server", "127.0.0.1"), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(f"jamajama-{role}", key, ca.subject, ca_key, ip=ip)
        files[role] = directory / f"{role}.pem"
        files[role].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{role}_key"] = directory / f"{role}.key"
        _write_key(files[f"{role}_key"], key)
    return files


def _serve_tls(app: object, files: dict[str, Path]) -> AbstractContextManager[str]:
    return serve(
        app,
        scheme="https",
        ssl_certfile=str(files["server"]),
        ssl_keyfile=str(files["server_key"]),
        ssl_ca_certs=str(files["ca"]),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )


@contextmanager
def _gateway_url(subgraph_url: str, tls: dict[str, str], client: str) -> Iterator[str]:
    settings = Settings(subgraphs={"tls": tls, "transport": client})
    urls = {name: f"{subgraph_url}/graphql" for name in ("accounts", "products", "reviews")}
    assembly = assemble(settings, supergraph_sdl=SUPERGRAPH_PATH.read_text(), subgraph_urls=urls)
    with serve(assembly.app) as url:
        yield url


@pytest.mark.parametrize("client", ["lean", "aiohttp"])
def test_mtls_client_certificate_is_presented_and_required(tmp_path: Path, client: str) -> None:
    files = _pki(tmp_path)
    subgraph = FakeSubgraph(me_answer)
    with _serve_tls(subgraph.app(), files) as subgraph_url:
        tls = {
            "client_cert": str(files["client"]),
            "client_key": str(files["client_key"]),
            "ca_file": str(files["ca"]),
        }
        with _gateway_url(subgraph_url, tls, client) as url:
            answer = httpx.post(f"{url}/graphql", json={"query": "{ me { id } }"}).json()
            assert answer == {"data": {"me": {"id": "1"}}}
        with _gateway_url(subgraph_url, {"ca_file": str(files["ca"])}, client) as url:
            refused = httpx.post(f"{url}/graphql", json={"query": "{ me { id } }"}).json()
            assert refused["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
    assert len(subgraph.requests) == 1
