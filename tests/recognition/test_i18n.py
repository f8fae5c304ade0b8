"""The interface in Simplified Chinese: a complete catalogue, chosen from the browser's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_has_a_chinese_translation():
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    entries = [e for e in text.split("\n\n") if "msgid" in e and 'msgid ""\nmsgstr ""\n"Project' not in e]
    untranslated = [e for e in entries if re.search(r'^msgstr ""$(?!\n")', e, re.M) or "#, fuzzy" in e]
    assert entries and not untranslated
    assert (CATALOGUE / "django.mo").stat().st_mtime >= (CATALOGUE / "django.po").stat().st_mtime - 1


@pytest.mark.django_db
def test_pages_follow_the_browser_language(user_client, active_model):
    page = user_client.get(reverse("recognition:identify"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "识别植物" in page and "选择照片" in page
    assert "用您的照片识别植物" in user_client.get("/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()


@pytest.mark.django_db
def test_upload_errors_are_translated(user_client, active_model):
    response = user_client.post(reverse("recognition:identify"), {"images": []}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请至少选择一张植物照片" in response.content.decode()
