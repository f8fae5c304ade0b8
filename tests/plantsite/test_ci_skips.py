"""CI allows only the skips listed in tests/skips.py (checked by tests/conftest.py at the session's end)."""

from __future__ import annotations

from tests.skips import ALLOWED_SKIPS, unexpected


def test_a_skip_not_listed_is_unexpected_and_a_listed_one_is_not():
    allowed = f"{next(iter(ALLOWED_SKIPS))} /somewhere/flowers5 (see ../shared/datasets/README.md)"
    other = "browser tests need Debian chromium at /usr/bin/chromium"
    assert unexpected([allowed, other]) == [other]
    assert unexpected([allowed]) == []
