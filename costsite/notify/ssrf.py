"""Refuse webhook targets inside private networks (SSRF guard).

The check runs twice: when a channel is saved (a clear error for the user) and again on every
connection, against the addresses actually connected to, so a DNS answer that changes after
validation (DNS rebinding) cannot reach an internal address. Redirects are never followed.
"""

import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class BlockedDestination(Exception):
    """The URL is not allowed as a webhook target; the message says why."""


class UnresolvedHost(OSError):
    """The host name did not resolve. When sending, a connection error like any other (retried:
    DNS failures are often temporary); when a channel is saved, a reason to refuse the URL."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global excludes loopback, RFC 1918, link-local (169.254.169.254 metadata), CGNAT
    # (100.64/10, some metadata services), unique-local IPv6 (fd00:ec2::254) and reserved ranges.
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvedHost(f"Cannot resolve host {host!r}: {exc.strerror}.") from exc


def checked_addresses(host: str, port: int) -> list[tuple]:
    infos = resolve(host, port)
    if not settings.COSTSITE_WEBHOOK_ALLOW_PRIVATE:
        for *_, sockaddr in infos:
            if not is_public_address(sockaddr[0]):
                raise BlockedDestination(
                    f"{host} resolves to {sockaddr[0]}, a loopback, private, link-local or "
                    "metadata address; webhooks must target public addresses."
                )
    return infos


def split_url(url: str):
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise BlockedDestination("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise BlockedDestination("The URL has no host.")
    if parts.username or parts.password:
        raise BlockedDestination("Credentials in the URL are not supported.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedDestination("The URL's port is not valid.") from exc
    return parts, port


def check_url(url: str) -> None:
    """Raise BlockedDestination if the URL may not be used as a webhook target (a host that
    does not resolve cannot be checked, so it is refused too)."""
    parts, port = split_url(url)
    try:
        checked_addresses(parts.hostname, port)
    except UnresolvedHost as exc:
        raise BlockedDestination(str(exc)) from exc


def guarded_socket(host: str, port: int, timeout: float) -> socket.socket:
    last_error = None
    for family, socktype, proto, _, sockaddr in checked_addresses(host, port):
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"Cannot connect to {host}:{port}.")


class GuardedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = guarded_socket(self.host, self.port, self.timeout)


class GuardedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        sock = guarded_socket(self.host, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, bytes]:
    """POST to a checked URL; returns (status, first 2 KiB of the response body)."""
    parts, port = split_url(url)
    connection_class = GuardedHTTPSConnection if parts.scheme == "https" else GuardedHTTPConnection
    connection = connection_class(parts.hostname, port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(2048)
    finally:
        connection.close()
