"""Where and when a plant was seen: EXIF date and GPS through the real upload path, the setting that keeps the
position (off: removed from the stored file and the database), the pages, the API and the exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image
from rest_framework.test import APIClient

from recognition import services
from recognition.models import Identification, IdentificationPhoto
from recognition.where_when import openstreetmap_url, read_where_when, without_gps
from tests.exif_photos import EIFFEL, exif_jpeg

pytestmark = pytest.mark.django_db

TAKEN = datetime(2026, 5, 4, 10, 11, 12, tzinfo=timezone(timedelta(hours=2)))
MAP = "https://www.openstreetmap.org/?mlat=48.858233&mlon=2.294500#map=16/48.858233/2.294500"


def _upload(client, data: bytes) -> Identification:
    files = [SimpleUploadedFile("field.jpg", data, content_type="image/jpeg")]
    response = client.post(reverse("recognition:identify"), {"images": files})
    assert response.status_code == 302, response.content.decode()[:500]
    return Identification.objects.latest("pk")


def _stored(identification: Identification) -> bytes:
    with identification.photos.get().file.open("rb") as handle:
        return handle.read()


def _scan(data: bytes) -> bytes:
    """The compressed pixels: everything from the start-of-scan marker on."""
    return data[data.index(b"\xff\xda") :]


@pytest.fixture
def keeps_location(user):
    services.set_keep_photo_location(user, True)


def test_the_exif_date_and_position_are_read():
    found = read_where_when(io.BytesIO(exif_jpeg()))
    assert found.taken_at == TAKEN
    assert (found.latitude, found.longitude) == (48.858233, 2.2945)
    south_west = ((33, 51, 25.0), "S", (151, 12, 55.0), "W")
    found = read_where_when(io.BytesIO(exif_jpeg(south_west, offset=None)))
    assert (found.latitude, found.longitude) == pytest.approx((-33.856944, -151.215278))
    assert found.taken_at == datetime(2026, 5, 4, 10, 11, 12, tzinfo=UTC)  # TIME_ZONE=UTC: the camera clock


BAD_GPS = {
    "no hemisphere": {2: (48, 51, 29), 4: (2, 17, 40)},
    "unknown hemisphere": {1: "Q", 2: (48, 51, 29), 3: "E", 4: (2, 17, 40)},
    "zero denominator": {1: "N", 2: ((48, 1), (51, 0), (29, 1)), 3: "E", 4: (2, 17, 40)},
    "latitude over 90": {1: "N", 2: (95, 0, 0), 3: "E", 4: (2, 17, 40)},
    "minutes over 60": {1: "N", 2: (48, 75, 0), 3: "E", 4: (2, 17, 40)},
    "two parts": {1: "N", 2: (48, 51), 3: "E", 4: (2, 17, 40)},
    "no fix (0, 0)": {1: "N", 2: (0, 0, 0), 3: "E", 4: (0, 0, 0)},
}


@pytest.mark.parametrize("gps", BAD_GPS.values(), ids=BAD_GPS.keys())
def test_bad_or_partial_gps_is_ignored_and_the_upload_accepted(user_client, user, active_model, keeps_location, gps):
    identification = _upload(user_client, exif_jpeg(gps_raw=gps))
    photo = identification.photos.get()
    assert (photo.latitude, photo.longitude) == (None, None)
    assert photo.taken_at == TAKEN  # the rest of the EXIF is still read


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "2026:13:45 99:00:00", "yesterday", ""])
def test_a_bad_date_is_ignored_and_the_upload_accepted(user_client, active_model, taken):
    photo = _upload(user_client, exif_jpeg(taken=taken)).photos.get()
    assert photo.taken_at is None


@pytest.mark.parametrize(("taken", "offset"), [("9999:12:31 23:59:59", "-05:00"), ("2990:01:01 00:00:00", None)])
def test_a_date_out_of_range_or_in_the_future_is_ignored(user_client, active_model, taken, offset):
    # 9999-12-31 at -05:00 is past the largest date Python and the database hold: once a 500, or a history
    # that could no longer be read on PostgreSQL
    identification = _upload(user_client, exif_jpeg(taken=taken, offset=offset))
    assert identification.photos.get().taken_at is None
    assert user_client.get(reverse("recognition:history")).status_code == 200


def test_a_bad_offset_falls_back_to_the_site_time_zone(user_client, active_model):
    assert _upload(user_client, exif_jpeg(offset="+99:99")).photos.get().taken_at == TAKEN.replace(tzinfo=UTC)


def test_by_default_the_position_is_removed_from_the_stored_photo_and_not_kept(user_client, active_model):
    sent = exif_jpeg()
    identification = _upload(user_client, sent)
    photo = identification.photos.get()
    assert photo.taken_at == TAKEN and (photo.latitude, photo.longitude) == (None, None)

    stored = _stored(identification)
    assert read_where_when(io.BytesIO(stored)).latitude is None
    exif = Image.open(io.BytesIO(stored)).getexif()
    assert ExifTags.IFD.GPSInfo not in exif and not exif.get_ifd(ExifTags.IFD.GPSInfo)
    # everything else is the photo as sent: orientation, camera, date, and the very same compressed pixels
    assert (exif[ExifTags.Base.Orientation], exif[ExifTags.Base.Make], exif[ExifTags.Base.Model]) == (
        6,
        "Fieldcam",
        "FC-1",
    )
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2026:05:04 10:11:12"
    assert _scan(stored) == _scan(sent)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stored))), np.asarray(Image.open(io.BytesIO(sent))))
    assert b"Fieldcam" in stored and len(stored) < len(sent)


def test_with_the_setting_on_the_photo_and_its_position_are_kept(user_client, user, active_model, keeps_location):
    sent = exif_jpeg()
    identification = _upload(user_client, sent)
    photo = identification.photos.get()
    assert (photo.latitude, photo.longitude, photo.taken_at) == (48.858233, 2.2945, TAKEN)
    assert photo.map_url == MAP == openstreetmap_url(48.858233, 2.2945)
    assert _stored(identification) == sent


def test_a_photo_without_exif_has_no_date_or_place(user_client, active_model, keeps_location):
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 120, 30)).save(buffer, format="JPEG")
    photo = _upload(user_client, buffer.getvalue()).photos.get()
    assert (photo.taken_at, photo.latitude, photo.longitude) == (None, None, None)


def test_a_png_with_gps_is_stored_without_it(user_client, active_model):
    exif = Image.open(io.BytesIO(exif_jpeg())).getexif()
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 120, 30)).save(buffer, format="PNG", exif=exif)
    identification = _upload(user_client, buffer.getvalue())
    assert read_where_when(io.BytesIO(_stored(identification))).latitude is None
    assert identification.photos.get().latitude is None


def test_without_gps_drops_an_xmp_position_and_an_mpo_second_frame():
    sent = exif_jpeg()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:Description exif:GPSLatitude='48,51.494N'/></x:xmpmeta>"
    segment = b"\xff\xe1" + (len(xmp) + 2).to_bytes(2, "big") + xmp
    with_xmp = sent[:2] + segment + sent[2:] + b"\xff\xd8second frame with its own GPS\xff\xd9"
    stripped = without_gps(with_xmp)
    assert b"GPSLatitude" not in stripped and b"second frame" not in stripped
    assert stripped.endswith(b"\xff\xd9") and _scan(stripped) == _scan(sent)
    assert without_gps(b"not a jpeg") == b"not a jpeg"


def test_without_gps_leaves_no_position_in_a_file_laid_out_in_a_way_its_segment_walk_does_not_follow():
    sent = exif_jpeg()
    # two stray bytes before the EXIF segment: the walk stops there, Pillow (and any viewer) reads on
    odd = sent[:2] + b"\xff\xfe\x00\x04hi" + b"\x00\x00" + sent[2:]
    assert read_where_when(io.BytesIO(odd)).has_place
    stripped = without_gps(odd)
    assert not read_where_when(io.BytesIO(stripped)).has_place and not Image.open(io.BytesIO(stripped)).getexif()
    assert Image.open(io.BytesIO(stripped)).size == (Image.open(io.BytesIO(sent)).size[::-1])  # turned upright


def test_without_gps_drops_an_xmp_extension_packet_naming_the_position():
    sent = exif_jpeg()
    extension = (
        b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 40 + b"<exif:GPSLongitude>2,17.67E</exif:GPSLongitude>"
    )
    segment = b"\xff\xe1" + (len(extension) + 2).to_bytes(2, "big") + extension
    assert b"GPSLongitude" not in without_gps(sent[:2] + segment + sent[2:])


def test_turning_the_setting_off_strips_a_kept_photo_whose_position_could_not_be_read(user_client, user, active_model):
    services.set_keep_photo_location(user, True)
    unreadable = exif_jpeg(gps_raw={ExifTags.GPS.GPSLatitude: (48, 51, 29), ExifTags.GPS.GPSLongitude: (2, 17, 40)})
    identification = _upload(user_client, unreadable)  # no hemisphere: no position read, the file as sent
    assert identification.photos.get().latitude is None and Image.open(
        io.BytesIO(_stored(identification))
    ).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    services.set_keep_photo_location(user, False)
    assert not Image.open(io.BytesIO(_stored(identification))).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_the_account_page_has_the_setting_off_by_default_and_saves_it(user_client, user):
    page = user_client.get(reverse("account")).content.decode()
    assert 'name="keep_photo_location"' in page and 'id="id_keep_photo_location" checked' not in page
    response = user_client.post(reverse("recognition:preferences"), {"keep_photo_location": "on"}, follow=True)
    assert 'id="id_keep_photo_location" checked' in response.content.decode()
    assert user.preferences.keep_photo_location and not user.preferences.share_confirmed_photos
    user_client.post(reverse("recognition:preferences"), {"share_confirmed_photos": "on"})
    user.preferences.refresh_from_db()
    assert not user.preferences.keep_photo_location and user.preferences.share_confirmed_photos


def test_turning_the_setting_off_removes_the_positions_kept_so_far(user_client, user, active_model, keeps_location):
    identification = _upload(user_client, exif_jpeg())
    assert identification.photos.get().latitude is not None
    user_client.post(reverse("recognition:preferences"), {})
    photo = IdentificationPhoto.objects.get(identification=identification)
    assert (photo.latitude, photo.longitude, photo.taken_at) == (None, None, TAKEN)
    stored = _stored(identification)
    assert read_where_when(io.BytesIO(stored)).latitude is None
    assert Image.open(io.BytesIO(stored)).getexif()[ExifTags.Base.Orientation] == 6


def test_the_result_and_history_pages_show_the_date_and_the_place(user_client, active_model, keeps_location):
    identification = _upload(user_client, exif_jpeg())
    for url in (reverse("recognition:detail", args=[identification.public_id]), reverse("recognition:history")):
        page = user_client.get(url).content.decode()
        assert 'data-testid="where-when"' in page and 'datetime="2026-05-04T08:11:12+00:00"' in page
        assert "48.85823, 2.29450" in page and MAP.replace("&", "&amp;") in page


def test_the_pages_show_the_date_but_no_place_by_default(user_client, active_model):
    identification = _upload(user_client, exif_jpeg())
    page = user_client.get(reverse("recognition:detail", args=[identification.public_id])).content.decode()
    assert 'data-testid="taken-at"' in page and "openstreetmap" not in page


def test_the_api_gives_the_date_and_the_place(user, user_client, active_model, keeps_location):
    identification = _upload(user_client, exif_jpeg())
    _upload(user_client, plain_jpeg())
    api = APIClient()
    api.force_authenticate(user)
    body = api.get(f"/api/identifications/{identification.public_id}/").json()
    expected = {"taken_at": "2026-05-04T08:11:12Z", "latitude": 48.858233, "longitude": 2.2945, "map_url": MAP}
    assert {key: body[key] for key in expected} == expected
    assert {key: body["photos"][0][key] for key in expected} == expected
    plain = api.get("/api/identifications/").json()["results"][0]
    assert {key: plain[key] for key in expected} == dict.fromkeys(expected)
    assert plain["photos"][0]["map_url"] is None


def plain_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 120, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_the_exports_carry_the_date_and_the_place(user_client, active_model, keeps_location):
    identification = _upload(user_client, exif_jpeg())
    _upload(user_client, plain_jpeg())
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(user_client.get("/history/export/csv/").content.decode()))}
    row = rows.pop(str(identification.public_id))
    assert (row["taken_at"], row["latitude"], row["longitude"], row["map_url"]) == (
        "2026-05-04T08:11:12+00:00",
        "48.858233",
        "2.2945",
        MAP,
    )
    (other,) = rows.values()
    assert (other["taken_at"], other["latitude"], other["map_url"]) == ("", "", "")
    records = {r["id"]: r for r in json.loads(user_client.get("/history/export/json/").content)["identifications"]}
    assert (
        records[str(identification.public_id)]["latitude"] == 48.858233
        and records[str(identification.public_id)]["map_url"] == MAP
    )
    assert records[str(identification.public_id)]["taken_at"] == "2026-05-04T08:11:12+00:00"


def test_the_position_of_the_eiffel_fixture_is_what_the_map_link_names():
    (d, m, s), _, (d2, m2, s2), _ = EIFFEL
    assert round(d + m / 60 + s / 3600, 6) == 48.858233 and round(d2 + m2 / 60 + s2 / 3600, 6) == 2.2945


def test_an_upload_through_the_api_keeps_the_place_only_with_the_setting(user, active_model):
    api = APIClient()
    api.force_authenticate(user)

    def sent_through_the_api() -> dict:
        photo = SimpleUploadedFile("field.jpg", exif_jpeg(), content_type="image/jpeg")
        created = api.post("/api/identifications/", {"images": [photo]}, format="multipart")
        assert created.status_code == 202, created.content
        return api.get(created.json()["url"]).json()

    body = sent_through_the_api()
    assert (body["taken_at"], body["latitude"], body["photos"][0]["map_url"]) == ("2026-05-04T08:11:12Z", None, None)
    assert read_where_when(io.BytesIO(_stored(Identification.objects.get(public_id=body["id"])))).latitude is None

    services.set_keep_photo_location(user, True)
    body = sent_through_the_api()
    assert (body["latitude"], body["longitude"], body["map_url"]) == (48.858233, 2.2945, MAP)
