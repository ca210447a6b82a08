"""gRPC channels and server ports between controller and workers: plaintext or (m)TLS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from loadforge.errors import InvalidInput


class TlsConfigError(InvalidInput):
    """TLS options that cannot work (a missing file, a key without its certificate)."""


@dataclass(frozen=True)
class ChannelSecurity:
    """PEM paths. With ``ca`` alone a worker verifies the controller; with cert+key too,
    the controller verifies the worker as well (mutual TLS)."""

    cert: str | None = None
    key: str | None = None
    ca: str | None = None

    @property
    def tls(self) -> bool:
        return bool(self.cert or self.ca)


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise TlsConfigError(f"cannot read {path}: {err.strerror}") from None


_OPTIONS = [
    ("grpc.keepalive_time_ms", 5_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
]


def open_channel(target: str, security: ChannelSecurity) -> grpc.aio.Channel:
    if not security.tls:
        return grpc.aio.insecure_channel(target, options=_OPTIONS)
    if bool(security.cert) != bool(security.key):
        raise TlsConfigError("a client certificate needs both --tls-cert and --tls-key")
    creds = grpc.ssl_channel_credentials(
        root_certificates=_read(security.ca),
        private_key=_read(security.key),
        certificate_chain=_read(security.cert),
    )
    return grpc.aio.secure_channel(target, creds, options=_OPTIONS)


def add_port(server: grpc.aio.Server, bind: str, security: ChannelSecurity) -> int:
    if not security.tls:
        return server.add_insecure_port(bind)
    key, cert = _read(security.key), _read(security.cert)
    if not (key and cert):
        raise TlsConfigError("the controller needs both --tls-cert and --tls-key for TLS")
    # With a CA the controller demands a client certificate signed by it (mutual TLS).
    creds = grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=_read(security.ca),
        require_client_auth=security.ca is not None,
    )
    return server.add_secure_port(bind, creds)


SERVER_OPTIONS = _OPTIONS
