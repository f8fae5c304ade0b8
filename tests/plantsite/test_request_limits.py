"""Through gunicorn started by `make run`'s launcher: chunked request bodies (``Transfer-Encoding: chunked``, no
``Content-Length``), as streaming clients send them, reach every upload route whole, with the same size limits;
long URLs are served up to the limit and refused beyond it in JSON. A few direct checks of the WSGI wrapper
cover what a real server makes hard to send."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid

import pytest
import requests

from plantsite.request_limits import MAX_URI, RequestLimitsMiddleware

from ..recognition.conftest import photo_of
from .conftest import ROOT, free_port

SETUP = """
from django.contrib.auth import get_user_model
from recognition.tokens import create_token
from ml import versions
user = get_user_model().objects.create_user("stream", "stream@example.org", "Sturdy-Fern-4821")
versions.register_checkpoint({checkpoint!r}, name="tiny-stream", activate=True)
print("KEY", create_token(user, "test")[1])
"""


def multipart(fields: list[tuple[str, str, bytes, str | None]]) -> tuple[bytes, str]:
    """Return a multipart/form-data body of (name, filename, data, content type) parts and its content type."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, filename, data, content_type in fields:
        body.write(f"--{boundary}\r\n".encode())
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body.write(f"Content-Disposition: {disposition}\r\n".encode())
        if content_type:
            body.write(f"Content-Type: {content_type}\r\n".encode())
        body.write(b"\r\n" + data + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def chunks(data: bytes, size: int = 8192):
    """Yield the body in pieces: requests then sends it chunked, without a Content-Length (as axios streams do)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def post_chunked(url: str, data: bytes, content_type: str) -> requests.Response:
    """POST ``data`` with Transfer-Encoding: chunked and no Content-Length."""
    request = requests.Request("POST", url, data=chunks(data), headers={"Content-Type": content_type}).prepare()
    assert request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in request.headers
    return requests.Session().send(request, timeout=120)


@pytest.fixture(scope="module")
def service(tmp_path_factory, tiny_checkpoint):
    """The launcher (broker, worker, gunicorn) on a fresh data folder with a user, a key and an active model;
    the /v2/ limit at 1 MB and the largest accepted body (one 1 MB photo + the form's 2.5 MB) about 3.5 MB."""
    import os

    data = tmp_path_factory.mktemp("chunked-service")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "CELERY_QUEUE")}
    env.update(
        DJANGO_SETTINGS_MODULE="plantsite.settings.test",
        PLANTSITE_DATA_DIR=str(data),
        MEDIA_ROOT=str(data / "media"),
        RECOGNITION_PLANTNET_MAX_REQUEST_MB="1",
        RECOGNITION_MAX_UPLOAD_MB="1",
        RECOGNITION_MAX_FILES="1",
        RECOGNITION_CONFIDENCE_THRESHOLD="0",
        CELERY_QUEUE=f"chunked-{uuid.uuid4().hex[:8]}",  # test settings would give each process its own
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    shell = subprocess.run(
        [*manage, "shell", "-c", SETUP.format(checkpoint=str(tiny_checkpoint))],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = next(line.split()[1] for line in shell.stdout.splitlines() if line.startswith("KEY "))
    port = free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "plantsite.launcher", "--port", str(port), "--web-workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                requests.get(f"{base}/accounts/login/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.5)
        warm_up(base, key)
        yield base, key
    finally:
        launcher.terminate()
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            launcher.kill()


def warm_up(base: str, key: str) -> None:
    """Have the worker load the model once (an upload with a length), so /v2/ answers within its wait."""
    headers = {"Authorization": f"Token {key}"}
    files = {"images": ("warm.jpg", photo_of((40, 190, 60)).read(), "image/jpeg")}
    url = requests.post(f"{base}/api/identifications/", files=files, headers=headers, timeout=60).json()["url"]
    deadline = time.monotonic() + 180
    while requests.get(url, headers=headers, timeout=10).json()["status"] != "done":
        assert time.monotonic() < deadline, "the launcher's worker did not answer within 3 minutes"
        time.sleep(0.5)


def photo_body() -> tuple[bytes, str]:
    return multipart(
        [("images", "flower.jpg", photo_of((220, 40, 40)).read(), "image/jpeg"), ("organs", "", b"flower", None)]
    )


def test_a_chunked_upload_to_v2_identify_is_identified(service):
    base, key = service
    response = post_chunked(f"{base}/v2/identify/all?api-key={key}&no-reject=true", *photo_body())
    assert response.status_code == 200, response.text
    assert response.json()["query"]["organs"] == ["flower"]
    assert response.json()["results"]


def test_a_chunked_upload_to_the_rest_api_is_accepted(service):
    base, key = service
    data, content_type = photo_body()
    request = requests.Request(
        "POST",
        f"{base}/api/identifications/",
        data=chunks(data),
        headers={"Content-Type": content_type, "Authorization": f"Token {key}"},
    ).prepare()
    response = requests.Session().send(request, timeout=120)
    assert response.status_code == 202, response.text


def test_a_chunked_body_over_the_v2_limit_gets_the_same_413_as_one_with_a_length(service):
    base, key = service
    padding = ("images", "big.jpg", b"\xff" * (1536 * 1024), "image/jpeg")  # 1.5 MB: over /v2/'s 1 MB
    data, content_type = multipart([padding])
    chunked = post_chunked(f"{base}/v2/identify/all?api-key={key}", data, content_type)
    with_length = requests.post(
        f"{base}/v2/identify/all?api-key={key}", data=data, headers={"Content-Type": content_type}, timeout=60
    )
    assert chunked.status_code == with_length.status_code == 413
    assert chunked.json()["error"] == "Request Entity Too Large"
    assert chunked.json()["message"] == with_length.json()["message"]


def test_a_chunked_body_over_the_largest_accepted_body_is_a_413_before_django(service):
    base, key = service
    data, content_type = multipart([("images", "huge.jpg", b"\xff" * (5 * 1024 * 1024), "image/jpeg")])
    response = post_chunked(f"{base}/v2/identify/all?api-key={key}", data, content_type)
    assert response.status_code == 413
    assert response.json()["statusCode"] == 413 and "MB" in response.json()["message"]


def test_a_long_url_within_the_limit_is_served(service):
    base, key = service
    padding = "x" * (MAX_URI - 200)  # longer than gunicorn's default request line (4094 bytes)
    response = requests.get(f"{base}/v2/projects?api-key={key}&pad={padding}", timeout=30)
    assert response.status_code == 200, response.text[:300]


def test_a_url_over_the_limit_is_a_json_414_in_plantnets_shape_under_v2(service):
    base, key = service
    response = requests.get(f"{base}/v2/projects?api-key={key}&pad={'x' * MAX_URI}", timeout=30)
    assert response.status_code == 414
    assert response.json()["error"] == "Request-URI Too Long" and "longer than" in response.json()["message"]


def test_a_url_over_the_limit_is_a_json_414_under_api(service):
    base, _ = service
    response = requests.get(f"{base}/api/identifications/?species={'x' * MAX_URI}", timeout=30)
    assert response.status_code == 414 and "longer than" in response.json()["message"]


# --- the wrapper alone ----------------------------------------------------------------------------------------


def call(environ: dict, limit: int = 10) -> tuple[str, bytes, dict]:
    """Run the wrapper (limit ``limit`` bytes) around an app that reads its body; return status, body, and what
    the app saw (empty when it was not called)."""
    seen, answer = {}, {}

    def app(environ, start_response):
        seen.update(environ, body=environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [])
        return [b"ok"]

    def start_response(status, headers):
        answer["status"] = status

    body = b"".join(RequestLimitsMiddleware(app, limit=lambda: limit)(environ, start_response))
    return answer["status"], body, seen


def test_a_body_with_a_length_is_passed_through_untouched():
    stream = io.BytesIO(b"abc")
    _, _, seen = call({"PATH_INFO": "/", "wsgi.input": stream, "CONTENT_LENGTH": "3"})
    assert seen["wsgi.input"] is stream and seen["body"] == b"abc"


def test_a_chunked_body_reaches_the_app_with_its_length():
    chunked = {"PATH_INFO": "/identify/", "wsgi.input": io.BytesIO(b"0123456789"), "HTTP_TRANSFER_ENCODING": "chunked"}
    status, _, seen = call(chunked)
    assert status == "200 OK"
    assert (seen["CONTENT_LENGTH"], seen["body"]) == ("10", b"0123456789")
    assert "HTTP_TRANSFER_ENCODING" not in seen


def test_a_chunked_body_one_byte_over_the_limit_is_refused_as_text_on_pages():
    chunked = {"PATH_INFO": "/identify/", "wsgi.input": io.BytesIO(b"0123456789!"), "HTTP_TRANSFER_ENCODING": "chunked"}
    status, body, seen = call(chunked)
    assert status.startswith("413") and not seen
    assert body.startswith(b"The request body is larger than")
