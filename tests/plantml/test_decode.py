"""Decoding photos for the model: JPEG draft scaling and upright orientation."""

from __future__ import annotations

from PIL import Image

from plantml.decode import open_image


def _jpeg(path, size, orientation: int | None = None):
    image = Image.new("RGB", size, (30, 160, 60))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, quality=90, exif=exif)
    return path


def test_a_large_jpeg_is_decoded_at_the_smallest_scale_covering_the_model_size(tmp_path):
    image = open_image(_jpeg(tmp_path / "big.jpg", (2000, 1500)), min_side=256)
    assert image.size == (500, 375)  # 1/4 scale; 1/8 would give 250 px < 256
    assert image.mode == "RGB"


def test_without_a_size_the_jpeg_is_decoded_in_full(tmp_path):
    assert open_image(_jpeg(tmp_path / "big.jpg", (2000, 1500))).size == (2000, 1500)


def test_the_exif_orientation_is_applied(tmp_path):
    assert open_image(_jpeg(tmp_path / "rotated.jpg", (800, 400), orientation=6), min_side=100).size == (100, 200)


def test_other_formats_are_decoded_as_they_are(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGBA", (600, 300), (10, 20, 30, 128)).save(path)
    image = open_image(path, min_side=64)
    assert (image.size, image.mode) == ((600, 300), "RGB")
