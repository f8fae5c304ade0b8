"""Fetch a photo a client names by URL (Pl@ntNet's ``GET /v2/identify?images=URL``), safely.

Only http(s); the host is resolved and every address it resolves to must be public (no private,
loopback, link-local, multicast or reserved address, so that a request cannot reach this machine or its
network); the connection goes to the address that was checked, so a second DNS answer cannot swap it;
redirects are followed by hand, each target checked the same way; the answer must be an image, no larger
than one upload may be, and arrive within the time limit. Anything else raises RemoteImageError with a
message that says what to send instead.
"""

from __future__ import annotations

import ipaddress
import logging
import posixpath
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
BLOCK = 64 * 1024


class RemoteImageError(Exception):
    """A remote image that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """A URL that passed the checks, and the public address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def is_public(address: str) -> bool:
    """Return True when ``address`` is a global unicast address (IPv4-mapped IPv6 judged by its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(url: str) -> Target:
    """Return where ``url`` may be fetched from, or raise RemoteImageError when its scheme or address is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteImageError(f"{url!r} is not an http(s) URL of an image: give the full address, https://...")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RemoteImageError(f"{url!r} has an invalid port") from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RemoteImageError(f"the host of {url!r} cannot be found: check the image URL") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    allowed = host in settings.RECOGNITION_REMOTE_IMAGE_PRIVATE_HOSTS
    if not allowed and not all(is_public(address) for address in addresses):
        logger.warning("refused remote image %s: %s resolves to a non-public address %s", url, host, addresses)
        raise RemoteImageError(
            f"{url!r} points to a private or local address: give an image URL on the public internet"
        )
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses[0])


def _connection(target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    """Return a connection pool to the checked address that still names (and, over TLS, verifies) the host."""
    timeouts = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeouts,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeouts, retries=False)


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


def _read_body(response: urllib3.BaseHTTPResponse, url: str, limit: int, deadline: float) -> bytes:
    """Return the body, or raise when it is larger than ``limit`` or outlasts ``deadline``."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RemoteImageError(
            f"the image at {url!r} is {int(declared) / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB"
        )
    chunks, size = [], 0
    while block := response.read1(BLOCK):  # returns what has arrived, so a trickle meets the deadline
        size += len(block)
        if size > limit:
            raise RemoteImageError(f"the image at {url!r} is larger than {limit / 2**20:.0f} MB: send a smaller one")
        if time.monotonic() > deadline:
            raise RemoteImageError(f"the image at {url!r} took too long to download: send it as a file instead")
        chunks.append(block)
    return b"".join(chunks)


def fetch_image(url: str) -> SimpleUploadedFile:
    """Return the image at ``url`` as an upload, or raise RemoteImageError saying why it cannot be used."""
    timeout = settings.RECOGNITION_REMOTE_IMAGE_TIMEOUT_SECONDS
    limit = settings.RECOGNITION_MAX_UPLOAD_BYTES
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = resolve(current)
        remaining = max(0.1, deadline - time.monotonic())
        pool = _connection(target, remaining)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers={"Host": _host_header(target), "Accept": "image/*", "User-Agent": "plantsite"},
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.TimeoutError:
            raise RemoteImageError(
                f"the image at {url!r} did not arrive in {timeout:.0f} s: send it as a file"
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            logger.info("remote image %s could not be fetched: %s", current, exc)
            raise RemoteImageError(f"the image at {url!r} could not be downloaded: check the URL") from None
        try:
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            if response.status != 200:
                raise RemoteImageError(f"the image at {url!r} answered HTTP {response.status}: check the URL")
            content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            if not content_type.startswith("image/"):
                raise RemoteImageError(
                    f"{url!r} is not an image (its type is {content_type or 'not given'}): give the URL of a photo"
                )
            try:
                data = _read_body(response, url, limit, deadline)
            except urllib3.exceptions.HTTPError:
                raise RemoteImageError(f"the image at {url!r} could not be downloaded whole: try again") from None
        finally:
            response.release_conn()
            pool.close()
        name = posixpath.basename(urlsplit(current).path) or "remote-image"
        return SimpleUploadedFile(name, data, content_type=content_type)
    raise RemoteImageError(f"{url!r} redirects more than {MAX_REDIRECTS} times: give the image's own URL")
