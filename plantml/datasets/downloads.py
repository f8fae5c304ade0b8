"""Photo downloads for a real network: concurrent, per-host rate-limited, retried, verified, resumable."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from .scan import IMAGE_SUFFIXES

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}
PARTIAL = ".part"  # a download in progress; never counted as done
USER_AGENT = "plantsite-dataset/1 (python-requests)"
CHUNK = 1 << 16
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class DownloadOptions:
    """How to fetch: parallel requests, per-request timeout, retries with doubling back-off, requests/s per host."""

    jobs: int = 8
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    per_host_rate: float = 5.0


@dataclass(frozen=True)
class Fetched:
    """One photo's outcome: its file and content hash, or the reason it could not be had."""

    key: str
    url: str
    path: Path | None = None
    sha256: str = ""
    error: str = ""
    reused: bool = False  # already downloaded by an earlier run


class DownloadError(Exception):
    """A photo that could not be had; the message is the reason shown in the summary."""


class HostRateLimit:
    """At most ``rate`` request starts per second to each host, shared by all threads."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.next_start: dict[str, float] = {}

    def wait(self, host: str) -> None:
        """Block until a request to ``host`` may start."""
        with self.lock:
            now = self.clock()
            start = max(now, self.next_start.get(host, now))
            self.next_start[host] = start + self.interval
        if start > now:
            self.sleep(start - now)


def done_files(folder: Path) -> dict[str, Path]:
    """Return {key: file} of the photos an earlier run finished in ``folder`` (partial files excluded)."""
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES}


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class Downloader:
    """Fetches (key, url) pairs into ``folder/<key>.<image suffix>``; a second run fetches only what is missing."""

    def __init__(self, folder: str | Path, options: DownloadOptions, sleep: Callable[[float], None] = time.sleep):
        self.folder, self.options, self.sleep = Path(folder), options, sleep
        self.limit = HostRateLimit(options.per_host_rate)
        self.local = threading.local()

    def fetch_all(self, items: Sequence[tuple[str, str]], description: str = "photos") -> list[Fetched]:
        """Return one Fetched per (key, url), in the order given, downloading with ``jobs`` threads."""
        self.folder.mkdir(parents=True, exist_ok=True)
        done = done_files(self.folder)
        results: dict[str, Fetched] = {}
        missing = []
        for key, url in items:
            if key in done:
                results[key] = Fetched(key, url, done[key], sha256_of(done[key]), reused=True)
            else:
                missing.append((key, url))
        if missing:
            logger.info("downloading %d %s (%d already here)", len(missing), description, len(items) - len(missing))
        with (
            ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool,
            tqdm(total=len(missing), desc=description, unit="photo", disable=None, leave=False) as bar,
        ):
            futures = [pool.submit(self.fetch, key, url) for key, url in missing]
            for future in as_completed(futures):
                result = future.result()
                results[result.key] = result
                bar.update(1)
        return [results[key] for key, _ in items]

    def fetch(self, key: str, url: str) -> Fetched:
        """Return the outcome of downloading one photo (never raises for a network or image problem)."""
        partial = self.folder / f"{key}{PARTIAL}"
        try:
            digest = self._download(url, partial)
            suffix = verify_image(partial)
        except DownloadError as exc:
            partial.unlink(missing_ok=True)
            logger.debug("%s failed: %s", url, exc)
            return Fetched(key, url, error=str(exc))
        target = self.folder / f"{key}{suffix}"
        os.replace(partial, target)  # only a whole, verified photo ever has the final name
        return Fetched(key, url, target, digest)

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["User-Agent"] = USER_AGENT
        return self.local.session

    def _download(self, url: str, target: Path) -> str:
        """Write ``url``'s body to ``target`` with retries; return its SHA-256 or raise DownloadError(reason)."""
        scheme, host = urlsplit(url)[:2]
        if scheme not in ("http", "https") or not host:
            raise DownloadError("not an http(s) URL")
        o = self.options
        reason, retry_after = "", ""
        for attempt in range(o.retries + 1):
            if attempt:
                self.sleep(self._delay(attempt, retry_after))
            retry_after = ""
            self.limit.wait(host)
            try:
                with self._session().get(url, timeout=o.timeout, stream=True) as response:
                    if response.status_code in RETRY_STATUSES:
                        reason = f"HTTP {response.status_code}"
                        retry_after = response.headers.get("Retry-After", "")
                        continue
                    if response.status_code >= 400:
                        raise DownloadError(f"HTTP {response.status_code}")
                    digest = hashlib.sha256()
                    with open(target, "wb") as handle:
                        for block in response.iter_content(CHUNK):
                            digest.update(block)
                            handle.write(block)
                    return digest.hexdigest()
            except requests.Timeout:
                reason = f"no answer within {o.timeout:g} s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                reason = f"connection failed ({type(exc).__name__})"
            except requests.RequestException as exc:
                raise DownloadError(f"request failed ({exc})") from exc
        tries = o.retries + 1
        raise DownloadError(f"{reason} ({tries} {'try' if tries == 1 else 'tries'})")

    def _delay(self, attempt: int, retry_after: str) -> float:
        """Return the wait before try ``attempt`` (from 1): the server's Retry-After, else a doubling back-off."""
        if retry_after.strip().isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER_S)
        return self.options.backoff * 2 ** (attempt - 1)


def verify_image(path: Path) -> str:
    """Return the file suffix of the photo at ``path`` after decoding it whole; DownloadError when it is not one."""
    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:  # verify() leaves the image unusable and misses truncated pixel data
            image.load()
            image_format = image.format or ""
    except UnidentifiedImageError as exc:
        raise DownloadError("not an image (no image format recognised)") from exc
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DownloadError(f"not a readable image ({exc})") from exc
    if image_format not in SUFFIXES:
        raise DownloadError(f"unsupported image format {image_format or 'unknown'}")
    return SUFFIXES[image_format]
