"""Photo downloads (plantml/datasets/downloads.py): per-host rate limit, verified photos, resumable files."""

from __future__ import annotations

import pytest

from plantml.datasets.downloads import PARTIAL, Downloader, DownloadError, DownloadOptions, HostRateLimit, verify_image
from tests.gbif_archive import PhotoServer, Route, photo_bytes


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_requests_to_one_host_are_spaced_and_other_hosts_are_not_held_back():
    clock = FakeClock()
    limit = HostRateLimit(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limit.wait("a.example")
    limit.wait("b.example")
    assert clock.slept == [0.25, 0.5]


def test_a_photo_that_does_not_decode_is_refused(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(photo_bytes(1)[:200])
    with pytest.raises(DownloadError, match="not a readable image"):
        verify_image(path)


def test_only_missing_photos_are_fetched_and_partial_files_do_not_count(tmp_path):
    (tmp_path / "a.jpg").write_bytes(photo_bytes(1))
    (tmp_path / f"b{PARTIAL}").write_bytes(photo_bytes(2)[:100])  # left by a killed run
    routes = {"/a": Route(photo_bytes(1)), "/b": Route(photo_bytes(2))}
    with PhotoServer(routes) as server:
        results = Downloader(tmp_path, DownloadOptions(jobs=2)).fetch_all(
            [("a", server.url("/a")), ("b", server.url("/b"))]
        )
    assert server.hits == {"/b": 1}
    assert [(r.reused, r.path.name) for r in results] == [(True, "a.jpg"), (False, "b.jpg")]
    assert (tmp_path / "b.jpg").read_bytes() == photo_bytes(2) and not (tmp_path / f"b{PARTIAL}").exists()


def test_a_client_error_is_not_retried(tmp_path):
    with PhotoServer({}) as server:
        (result,) = Downloader(tmp_path, DownloadOptions(retries=3, backoff=0)).fetch_all([("a", server.url("/gone"))])
    assert result.error == "HTTP 404" and server.hits["/gone"] == 1
