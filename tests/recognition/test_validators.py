"""The shared rules: uploads checked on their real content, organs, feedback; each refusal says why."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from recognition.validators import clean_organs, prepare_uploads, validate_feedback

from .conftest import image_bytes, upload


def _decoded(photo) -> Image.Image:
    return Image.open(io.BytesIO(photo.original))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels but carries almost no data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def _message(files) -> str:
    with pytest.raises(ValidationError) as raised:
        prepare_uploads(files)
    return " ".join(raised.value.messages)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_accepted_formats_become_rgb_jpeg(fmt):
    (photo,) = prepare_uploads([upload(image_bytes(fmt), name=f"p.{fmt.lower()}")])
    assert _decoded(photo).format == "JPEG"
    assert _decoded(photo).mode == "RGB"
    assert (photo.width, photo.height) == (72, 56)


@pytest.mark.parametrize(
    ("fmt", "mode"), [("JPEG", "CMYK"), ("PNG", "P"), ("PNG", "RGBA"), ("PNG", "I;16"), ("PNG", "L"), ("TIFF", "CMYK")]
)
def test_other_colour_modes_are_converted_to_rgb(fmt, mode):
    data = image_bytes(fmt, mode)
    if fmt == "TIFF":
        assert "TIFF" in _message([upload(data, name="scan.tif")])
        return
    (photo,) = prepare_uploads([upload(data, name="p.png")])
    assert _decoded(photo).mode == "RGB"


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    (photo,) = prepare_uploads([upload(image_bytes("PNG", "I;16"), name="deep.png")])
    value = _decoded(photo).getpixel((10, 10))[0]
    assert 150 < value < 160  # 40000 / 256 = 156, not 255


def test_transparent_pixels_are_put_on_white():
    data = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(data, format="PNG")
    (photo,) = prepare_uploads([upload(data.getvalue(), name="clear.png")])
    assert min(_decoded(photo).getpixel((5, 5))) > 240


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (80, 40), (10, 120, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = io.BytesIO()
    image.save(data, format="JPEG", exif=exif.tobytes())
    (photo,) = prepare_uploads([upload(data.getvalue())])
    assert (photo.width, photo.height) == (40, 80)


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (30, 30), color) for color in ((250, 0, 0), (0, 0, 250))]
    data = io.BytesIO()
    frames[0].save(data, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    (photo,) = prepare_uploads([upload(data.getvalue(), name="anim.gif")])
    red, _, blue = _decoded(photo).getpixel((15, 15))
    assert red > 200 and blue < 60


def test_a_thumbnail_fits_the_configured_box(settings):
    settings.RECOGNITION_THUMBNAIL_PX = 32
    (photo,) = prepare_uploads([upload(image_bytes(size=(120, 60)))])
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (32, 16)


def test_no_file_is_refused():
    assert "at least one photo" in _message([])


def test_more_than_five_files_are_refused():
    assert "at most 5 photos" in _message([upload() for _ in range(6)])


def test_an_empty_file_is_refused():
    assert "empty" in _message([upload(b"", name="blank.jpg")])


def test_a_file_that_is_not_an_image_is_refused():
    assert "not an image" in _message([upload(b"%PDF-1.7 definitely a document", name="leaf.jpg")])


def test_a_truncated_image_is_refused():
    data = image_bytes("JPEG", size=(200, 200))
    assert "damaged or incomplete" in _message([upload(data[: len(data) // 2])])


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.RECOGNITION_MAX_UPLOAD_BYTES = 1000
    assert "the limit is 1000" in _message([upload(image_bytes(size=(300, 300)))]).replace("\xa0", " ")


def test_an_image_over_the_pixel_limit_is_refused(settings):
    settings.RECOGNITION_MAX_PIXELS = 100 * 100
    assert "too many pixels" in _message([upload(image_bytes("PNG", size=(101, 100)), name="big.png")])


def test_a_decompression_bomb_is_refused_before_decoding():
    assert "too many pixels" in _message([upload(_png_header_only(60_000, 60_000), name="bomb.png")])


def test_a_one_by_six_thousand_png_is_refused_for_its_shape_with_the_limit():
    message = _message([upload(image_bytes("PNG", size=(1, 6000)), name="strip.png")])
    assert "strip.png is 1 x 6000 pixels" in message and "1:10" in message


def test_a_photo_at_exactly_the_aspect_limit_is_accepted():
    [photo] = prepare_uploads([upload(image_bytes("PNG", size=(300, 30)), name="wide.png")])
    assert (photo.width, photo.height) == (300, 30)


def test_the_aspect_limit_follows_its_setting(settings):
    settings.RECOGNITION_MAX_ASPECT_RATIO = 2
    assert "1:2" in _message([upload(image_bytes("PNG", size=(90, 30)), name="wide.png")])


def test_one_bad_file_rejects_the_whole_upload_with_its_name():
    message = _message([upload(), upload(b"nope", name="second.jpg")])
    assert "second.jpg" in message


def test_one_organ_applies_to_every_photo_and_missing_ones_are_auto():
    assert clean_organs(["leaf"], 3) == ["leaf", "leaf", "leaf"]
    assert clean_organs(["leaf", ""], 3) == ["leaf", "auto", "auto"]


@pytest.mark.parametrize(
    ("organs", "message"), [(["petal"], "Unknown organ petal"), (["leaf", "bark", "fruit"], "give one per photo")]
)
def test_unknown_or_surplus_organs_are_refused(organs, message):
    with pytest.raises(ValidationError, match=message):
        clean_organs(organs, 2)


@pytest.mark.parametrize(
    ("label", "species", "message"),
    [("viola", "", "not one of this result's candidates"), ("", "", "Confirm one of the candidates")],
)
def test_feedback_needs_a_candidate_label_or_a_species(label, species, message):
    with pytest.raises(ValidationError, match=message):
        validate_feedback(label, species, ["rosa", "bellis"])


def test_a_jpeg_is_stored_byte_for_byte_as_uploaded():
    data = image_bytes("JPEG", size=(300, 200))
    (photo,) = prepare_uploads([upload(data)])
    assert photo.original == data and (photo.width, photo.height) == (300, 200)


def test_a_rotated_jpeg_keeps_its_bytes_but_reports_its_upright_size_and_thumbnail():
    image = Image.new("RGB", (80, 40), (10, 120, 10))
    exif = image.getexif()
    exif[0x0112] = 6
    data = io.BytesIO()
    image.save(data, format="JPEG", exif=exif.tobytes())
    (photo,) = prepare_uploads([upload(data.getvalue())])
    assert photo.original == data.getvalue()
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (40, 80)


def test_a_large_jpeg_thumbnail_is_made_from_a_reduced_decode(settings):
    settings.RECOGNITION_THUMBNAIL_PX = 100
    (photo,) = prepare_uploads([upload(image_bytes("JPEG", size=(4000, 3000)))])
    assert (photo.width, photo.height) == (4000, 3000)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (100, 75)


def test_a_png_is_stored_as_an_upright_jpeg():
    (photo,) = prepare_uploads([upload(image_bytes("PNG"), name="leaf.png")])
    assert _decoded(photo).format == "JPEG"


@pytest.mark.parametrize(
    ("label", "species", "verdict", "message"),
    [
        ("rosa", "", "none_of_these", "not both"),
        ("", "Rosa rugosa", "not_a_plant", "You said it is not a plant"),
        ("", "", "weed", "Unknown answer weed"),
    ],
)
def test_feedback_verdicts_that_contradict_the_rest_are_refused(label, species, verdict, message):
    with pytest.raises(ValidationError, match=message):
        validate_feedback(label, species, ["rosa", "bellis"], verdict)


@pytest.mark.parametrize(
    ("species", "verdict"), [("", "none_of_these"), ("Rosa rugosa", "none_of_these"), ("", "not_a_plant")]
)
def test_a_verdict_is_an_answer_of_its_own(species, verdict):
    validate_feedback("", species, ["rosa", "bellis"], verdict)
