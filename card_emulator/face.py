"""The card face as images: name, address and digits as 1-bit PNG, a synthetic face photo as JPEG 2000.

券面事項確認AP (card-interface.md §6.2) keeps the printed face as images: 氏名 and 住所 as 1-bit PNG,
the security code (24×12) and, in EF 0005, the My Number (72×12) likewise, and the 顔写真 as a
greyscale JPEG 2000 (JP2). Here they are drawn from the synthetic holder's text.

Font (the same seed must give the same bytes on every machine):

* The Japanese text is drawn with IPAGothic (IPAゴシック, IPA Font License v1.0) from Debian's
  ``fonts-ipafont-gothic``, which ``scripts/setup.sh`` installs; ``MYNACARD_FONT`` may name another
  TrueType/OpenType file (the images, and so the card's bytes, then differ from the reference).
* Without any such font (a pip install elsewhere) every character is drawn as an outlined box and
  a warning is logged once: the card still works, but its images differ from the reference bytes.
* Pillow is pinned (pyproject.toml): its wheel carries the FreeType, zlib and OpenJPEG that turn the
  same text into the same PNG and JP2 bytes.

The photo is unmistakably synthetic: a flat drawn silhouette with a ``TEST`` band (drawn with
Pillow's bundled font, so it never depends on the system). Fonts are loaded once per process.
Issuance takes the images through :mod:`card_emulator.face_cache`, which keeps them on disk.
"""

from __future__ import annotations

import io
from functools import cache

# Jpeg2KImagePlugin registers JPEG 2000 saving: without it, the first save of a photo runs
# Image.init(), which imports every Pillow plugin (about 50 ms a process).
from PIL import Image, ImageDraw, ImageFont, Jpeg2KImagePlugin  # noqa: F401

from card_emulator.face_cache import DEBIAN_FONTS, FONT_ENV, font_path
from card_emulator.persona import DeterministicRandom

__all__ = [
    "DEBIAN_FONTS",
    "FONT_ENV",
    "PHOTO_SIZE",
    "address_image",
    "digits_image",
    "face_photo",
    "font_path",
    "label_font",
    "name_image",
    "png_1bit",
]

PHOTO_SIZE = (96, 120)  # width × height, greyscale; real cards' size is not public (our choice)
NAME_FONT, NAME_HEIGHT = 20, 24  # our choices: sizes of the rendered text (not public)
ADDRESS_FONT, ADDRESS_LINE, ADDRESS_CHARS = 16, 20, 20
DIGIT_FONT = 12  # half-width digits 6 px wide: 4 → 24×12, 12 → 72×12 as on cards (§6.1, §6.2)
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> _Font | None:
    path = font_path()
    return None if path is None else ImageFont.truetype(str(path), size)


@cache
def _bundled_font(size: int) -> _Font:
    """Pillow's own font (Latin only): the same on every machine with the pinned Pillow."""
    return ImageFont.load_default(size=size)


def label_font(size: int) -> _Font:
    """The Japanese font at ``size`` px for drawings; Pillow's own (Latin only) without one."""
    return _font(size) or _bundled_font(size)


def png_1bit(image: Image.Image) -> bytes:
    """A 1-bit greyscale PNG (colour type 0, bit depth 1), no ancillary chunks."""
    buffer = io.BytesIO()
    image.convert("1").save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _text_lines(lines: list[str], size: int, line_height: int, width: int | None) -> Image.Image:
    """Black text on white, 1 bit, ``line_height`` pixels a line, 2 px margins left and right."""
    font = _font(size)
    advances = [_advance(line, size, font) for line in lines]
    canvas_width = width if width is not None else max(8, -(-(max(advances) + 4) // 8) * 8)
    image = Image.new("1", (canvas_width, line_height * len(lines)), 1)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # no anti-aliasing: the image is 1 bit anyway
    for row, line in enumerate(lines):
        top = row * line_height + (line_height - size) // 2
        if font is None:
            _boxes(draw, line, size, 2, top)
        else:
            draw.text((2, top), line, font=font, fill=0)
    return image


def _advance(text: str, size: int, font: _Font | None) -> int:
    if font is None:
        return size * len(text)
    return int(font.getlength(text))


def _boxes(draw: ImageDraw.ImageDraw, text: str, size: int, left: int, top: int) -> None:
    """The no-font fallback: one outlined box per character (a blank for a space)."""
    for i, char in enumerate(text):
        if not char.isspace():
            x = left + i * size
            draw.rectangle((x + 1, top + 1, x + size - 2, top + size - 2), outline=0)


def name_image(name: str) -> bytes:
    """氏名 as printed: one line, 20 px type, 24 px high, width to fit (PNG, 1 bit)."""
    return png_1bit(_text_lines([name], NAME_FONT, NAME_HEIGHT, None))


def address_image(address: str) -> bytes:
    """住所 as printed: 16 px type, 20 characters a line, 20 px a line (PNG, 1 bit).

    A full-width space (U+3000) before the building name starts a new line when it falls in the
    second half of a line, as addresses are written on the card.
    """
    lines: list[str] = []
    rest = address
    while rest:
        cut = min(len(rest), ADDRESS_CHARS)
        space = rest.find("\u3000", ADDRESS_CHARS // 2, cut + 1)
        if len(rest) > ADDRESS_CHARS and space > 0:
            cut = space
        lines.append(rest[:cut])
        rest = rest[cut:].lstrip("\u3000")
    return png_1bit(_text_lines(lines, ADDRESS_FONT, ADDRESS_LINE, None))


def digits_image(digits: str) -> bytes:
    """Digits in 6-px cells, 12 px high: 4 → 24×12 (security code), 12 → 72×12 (My Number)."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("digits_image draws ASCII digits only")
    width = 6 * len(digits)
    font = _font(DIGIT_FONT) or _bundled_font(10)
    image = Image.new("1", (width, 12), 1)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    for i, digit in enumerate(digits):  # one cell each: the same layout with any font
        draw.text((i * 6, 0), digit, font=font, fill=0)
    return png_1bit(image)


def face_photo(seed: int) -> bytes:
    """A synthetic greyscale face photo as JPEG 2000 (JP2 container), 96×120, about 1.3 KB.

    A flat silhouette (head, hair, shoulders; shapes and tones from the seed) under a dark band
    reading ``TEST``: nobody could take it for a person's photograph.
    """
    rng = DeterministicRandom(b"face-photo", seed)
    width, height = PHOTO_SIZE
    background, skin, hair, clothes = (
        rng.randint(190, 235),
        rng.randint(120, 170),
        rng.randint(20, 70),
        rng.randint(60, 110),
    )
    image = Image.new("L", PHOTO_SIZE, background)
    draw = ImageDraw.Draw(image)
    cx, head_w, head_h = width // 2, rng.randint(34, 42), rng.randint(44, 52)
    top = rng.randint(14, 22)
    draw.ellipse((cx - 40, top + head_h + 8, cx + 40, height + 40), fill=clothes)  # shoulders
    draw.rectangle((cx - 9, top + head_h - 6, cx + 9, top + head_h + 14), fill=skin)  # neck
    hair_drop = rng.randint(0, 18)  # 0: short hair … 18: longer hair at the sides
    draw.ellipse(
        (cx - head_w // 2 - 4, top - 6, cx + head_w // 2 + 4, top + head_h // 2 + hair_drop),
        fill=hair,
    )
    draw.ellipse((cx - head_w // 2, top, cx + head_w // 2, top + head_h), fill=skin)  # face
    draw.chord(
        (cx - head_w // 2, top - 4, cx + head_w // 2, top + head_h // 2), 180, 360, fill=hair
    )
    draw.rectangle((0, height - 22, width, height - 4), fill=0)
    draw.text((cx, height - 13), "TEST", font=_bundled_font(14), fill=255, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[8])
    return buffer.getvalue()
