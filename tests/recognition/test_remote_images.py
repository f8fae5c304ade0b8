"""Remote photos (GET /v2/identify?images=URL) are fetched from a real local HTTP server: what an image URL
may point at, how large, how slow, of what type, and where its redirects may lead."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from recognition.remote_images import RemoteImageError, fetch_image, is_public

from .conftest import image_bytes

PHOTO = image_bytes()


class Handler(BaseHTTPRequestHandler):
    """Serves a photo, a text file, a large image, a slow image and redirects (to itself and to localhost)."""

    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, content_type: str, body: bytes, **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/photo.jpg":
            self.answer(200, "image/jpeg", PHOTO)
        elif self.path == "/notes.txt":
            self.answer(200, "text/plain", b"not a photo")
        elif self.path == "/big.jpg":
            self.answer(200, "image/jpeg", PHOTO + b"\0" * 4096)
        elif self.path == "/slow.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            for byte in PHOTO[:40]:  # a trickle: each byte well within the read timeout, the whole past the limit
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/moved.jpg":
            self.answer(302, "text/plain", b"", Location="/photo.jpg")
        elif self.path == "/to-localhost.jpg":
            self.answer(302, "text/plain", b"", Location=f"http://localhost:{port}/photo.jpg")
        elif self.path == "/loop.jpg":
            self.answer(302, "text/plain", b"", Location="/loop.jpg")
        else:
            self.answer(404, "text/plain", b"nothing here")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def local_allowed(settings):
    """This test's server counts as fetchable (a test setting; nothing private is by default)."""
    settings.RECOGNITION_REMOTE_IMAGE_PRIVATE_HOSTS = ["127.0.0.1"]


def test_a_photo_is_fetched_with_its_name_and_type(server, local_allowed):
    upload = fetch_image(f"{server}/photo.jpg")
    assert upload.read() == PHOTO
    assert (upload.name, upload.content_type) == ("photo.jpg", "image/jpeg")


def test_a_loopback_server_is_refused_by_default(server):
    with pytest.raises(RemoteImageError, match="private or local address"):
        fetch_image(f"{server}/photo.jpg")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/photo.jpg",
        "http://192.168.0.10/photo.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/photo.jpg",
        "http://[::ffff:127.0.0.1]/photo.jpg",
        "http://0.0.0.0/photo.jpg",
        "http://localhost/photo.jpg",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, local_allowed):
    with pytest.raises(RemoteImageError, match="private or local address"):
        fetch_image(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.jpg", "photo.jpg", "http:///a.jpg"])
def test_only_http_urls_are_fetched(url):
    with pytest.raises(RemoteImageError, match="not an http"):
        fetch_image(url)


def test_a_redirect_to_the_same_allowed_host_is_followed(server, local_allowed):
    assert fetch_image(f"{server}/moved.jpg").read() == PHOTO


def test_a_redirect_to_a_loopback_name_is_refused(server, local_allowed):
    with pytest.raises(RemoteImageError, match="private or local address"):
        fetch_image(f"{server}/to-localhost.jpg")


def test_endless_redirects_are_refused(server, local_allowed):
    with pytest.raises(RemoteImageError, match="redirects more than"):
        fetch_image(f"{server}/loop.jpg")


def test_what_is_not_an_image_is_refused_with_its_type(server, local_allowed):
    with pytest.raises(RemoteImageError, match="its type is text/plain"):
        fetch_image(f"{server}/notes.txt")


def test_an_image_over_the_upload_limit_is_refused(server, local_allowed, settings):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = len(PHOTO) + 100
    with pytest.raises(RemoteImageError, match="the limit is"):
        fetch_image(f"{server}/big.jpg")


def test_an_image_that_trickles_past_the_time_limit_is_refused(server, local_allowed, settings):
    settings.RECOGNITION_REMOTE_IMAGE_TIMEOUT_SECONDS = 1.0
    started = time.monotonic()
    with pytest.raises(RemoteImageError, match="too long"):
        fetch_image(f"{server}/slow.jpg")
    assert time.monotonic() - started < 3


def test_an_http_error_is_refused_with_its_status(server, local_allowed):
    with pytest.raises(RemoteImageError, match="HTTP 404"):
        fetch_image(f"{server}/missing.jpg")


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.216.34", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("fe80::1", False),
     ("100.64.0.1", False), ("224.0.0.1", False), ("::ffff:10.0.0.1", False)],
)  # fmt: skip
def test_only_global_unicast_addresses_are_public(address, public):
    assert is_public(address) is public
