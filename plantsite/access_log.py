"""gunicorn's access log without secrets: the ``api-key`` query value and the Authorization header are masked."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

SECRET_PARAMETERS = {"api-key"}
REDACTED = "[REDACTED]"
# name=value pairs of a query string (or of the query part of a request line or a Referer URL)
_PAIR = re.compile(r"(?P<start>^|[?&;])(?P<name>[^?&;=\s]*)=(?P<value>[^&;\s]*)")


def redact_query(text: str) -> str:
    """Return ``text`` with the value of each secret query parameter (however percent-encoded) replaced."""

    def mask(match: re.Match[str]) -> str:
        if unquote_plus(match["name"]).strip().lower() not in SECRET_PARAMETERS:
            return match[0]
        return f"{match['start']}{match['name']}={REDACTED}"

    return str(_PAIR.sub(mask, text))


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's logger (``--logger-class plantsite.access_log.RedactingLogger``) with secrets masked in every
    access-log atom, whatever ``--access-logformat`` an operator chooses."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if name in ("{authorization}i", "{http_authorization}e"):
                atoms[name] = REDACTED
            elif isinstance(value, str):
                atoms[name] = redact_query(value)
        return atoms
