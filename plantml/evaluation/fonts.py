"""Class names in any script: plots fall back to an installed CJK font for Chinese (or Japanese, Korean) names."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable

from matplotlib import font_manager, rcParams

logger = logging.getLogger(__name__)

# Families of the usual CJK fonts, best first (Debian: fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
NO_CJK_FONT = (
    "no CJK font is installed, so Chinese class names show as empty boxes in the plots: "
    "install one (Debian/Ubuntu: apt-get install fonts-noto-cjk or fonts-wqy-microhei) and run again"
)
_state: dict = {"warned": False, "added": None}


def needs_cjk(texts: Iterable[str]) -> bool:
    """Return True when any text holds a character from the CJK blocks (U+2E80 and above, Hangul included)."""
    return any(ord(char) >= 0x2E80 for text in texts for char in str(text))


def installed_cjk_family(families: Iterable[str] = CJK_FAMILIES) -> str | None:
    """Return the first of ``families`` that matplotlib can find, or None."""
    families = list(families)
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = next((family for family in families if family in installed), None)
    if found is None and _add_system_cjk_fonts():
        installed = {font.name for font in font_manager.fontManager.ttflist}
        found = next((family for family in families if family in installed), None)
    return found


def _add_system_cjk_fonts() -> bool:
    """Add the CJK fonts fontconfig knows to matplotlib (its font cache predates a font installed later)."""
    if _state.get("added") is not None or shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    paths = sorted({line.split(":")[0].strip() for line in listed.splitlines() if line.strip()})
    for path in paths:
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):  # a font file matplotlib cannot read
            continue
    _state["added"] = len(paths)
    return bool(paths)


def use_fonts_for(texts: Iterable[str], families: Iterable[str] = CJK_FAMILIES) -> None:
    """Make the next plots draw ``texts``: add a CJK fallback font when they need one, warn once if none exists."""
    if not needs_cjk(texts):
        return
    family = installed_cjk_family(families)
    if family is None:
        if not _state["warned"]:
            logger.warning(NO_CJK_FONT)
            _state["warned"] = True
        return
    families_now = list(rcParams["font.family"])
    if family not in families_now:
        # matplotlib falls back glyph by glyph through this list: Latin stays in the default font.
        rcParams["font.family"] = [*families_now, family]
