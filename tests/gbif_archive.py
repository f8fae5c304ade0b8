"""A small GBIF Darwin Core Archive written in the test, and a local HTTP server for its photos."""

from __future__ import annotations

import io
import random
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

DWC = "http://rs.tdwg.org/dwc/terms/"
GBIF = "http://rs.gbif.org/terms/1.0/"
DC = "http://purl.org/dc/terms/"
# columns in an order of our own (not GBIF's): the reader must follow meta.xml, not positions
OCCURRENCE_TERMS = (
    DWC + "scientificName",
    DWC + "family",
    GBIF + "gbifID",
    GBIF + "speciesKey",
    GBIF + "taxonKey",
    GBIF + "species",
    DWC + "genus",
    DWC + "scientificNameAuthorship",
    DC + "license",
)
OCCURRENCE_ID_INDEX = 2
MEDIA_TERMS = (
    DC + "license",
    DC + "creator",
    DC + "identifier",
    DC + "type",
    GBIF + "gbifID",
    DC + "format",
    DC + "rightsHolder",
    DC + "created",
    DC + "references",
)
MEDIA_COREID_INDEX = 4


def photo_bytes(seed: int, size: int = 48) -> bytes:
    """Return a JPEG of noisy colour blocks that differs for each ``seed``."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(40):
        image.putpixel((rng.randrange(size), rng.randrange(size)), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _meta(core_terms, core_id, media_terms, media_coreid, delimiter="\\t", enclosed="") -> str:
    def fields(terms):  # listed last column first: only the index attribute says which column is which
        return "\n".join(f'    <field index="{i}" term="{term}"/>' for i, term in reversed(list(enumerate(terms))))

    attributes = f'encoding="UTF-8" fieldsTerminatedBy="{delimiter}" linesTerminatedBy="\\n" ignoreHeaderLines="1"'
    enclosure = f'fieldsEnclosedBy="{enclosed}"'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="metadata.xml">
  <core {attributes} {enclosure} rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>occurrence.txt</location></files>
    <id index="{core_id}"/>
{fields(core_terms)}
  </core>
  <extension {attributes} {enclosure} rowType="http://rs.gbif.org/terms/1.0/Multimedia">
    <files><location>multimedia.txt</location></files>
    <coreid index="{media_coreid}"/>
{fields(media_terms)}
  </extension>
</archive>
"""


def write_archive(path: Path, occurrences: list[dict[str, str]], media: list[dict[str, str]]) -> Path:
    """Write a tab-separated Darwin Core Archive of ``occurrences`` and ``media`` rows ({term: value})."""

    def table(terms, rows):
        lines = ["\t".join(term.rsplit("/", 1)[1] for term in terms)]
        lines += ["\t".join(row.get(term, "") for term in terms) for row in rows]
        return "\n".join(lines) + "\n"

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.xml", _meta(OCCURRENCE_TERMS, OCCURRENCE_ID_INDEX, MEDIA_TERMS, MEDIA_COREID_INDEX))
        archive.writestr("occurrence.txt", table(OCCURRENCE_TERMS, occurrences))
        archive.writestr("multimedia.txt", table(MEDIA_TERMS, media))
        archive.writestr("metadata.xml", "<eml/>")
    return path


@dataclass
class Route:
    """What the server answers on one path: ``body`` after ``failures`` 500s; ``hang`` s of silence first;
    ``pause`` s between the two halves of the body (a download that can be killed halfway)."""

    body: bytes = b""
    failures: int = 0
    hang: float = 0.0
    pause: float = 0.0


class PhotoServer:
    """A threaded HTTP server on 127.0.0.1 serving ``routes``; ``hits`` counts requests per path."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes, self.hits = routes, Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.hits[self.path] += 1
                    hit = server.hits[self.path]
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.hang:
                    time.sleep(route.hang)
                if hit <= route.failures:
                    self.send_error(500)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                half = len(route.body) // 2
                try:
                    self.wfile.write(route.body[:half])
                    self.wfile.flush()
                    time.sleep(route.pause)
                    self.wfile.write(route.body[half:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout) or was killed

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.http.block_on_close = False
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """Return the full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def __enter__(self) -> PhotoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()
