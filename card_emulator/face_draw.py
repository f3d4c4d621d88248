"""Draw the front of the card the way a client would, from 券面事項確認AP EF 0002 alone.

Everything printed comes from the file (card-interface.md §6.2): the birth date (DF22), sex (DF23),
the name and address images (DF25, DF26), the photo (DF27), the expiry (DF29) and the
security-code image (DF2A). The layout is ours, roughly that of the real card (85.6 × 54 mm at
10 px/mm); a band says it is a TEST card. ``mynacard face`` saves it as PNG.
"""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw

from card_emulator.face import label_font
from card_emulator.formats import era_of
from card_emulator.surface import CardFace

__all__ = ["CARD_SIZE", "draw_card_face", "era_date", "png"]

CARD_SIZE = (856, 540)
_SEX = {"1": "男", "2": "女", "9": "適用不能", "0": "不明"}  # JIS X 0303
_INK, _GREY, _RED = (20, 20, 20), (110, 110, 110), (200, 30, 30)


def era_date(yyyymmdd: str) -> str:
    """``19680715`` → ``昭和43年7月15日`` (the era the date falls in, §11.3)."""
    d = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    era, year = era_of(d)
    return f"{era.name_ja}{'元' if year == 1 else year}年{d.month}月{d.day}日"


def _paste(
    canvas: Image.Image, data: bytes, at: tuple[int, int], scale: int, max_width: int = 0
) -> tuple[int, int]:
    """Decode an image of the card and paste it scaled; its size on the canvas.

    ``max_width`` (px, 0 = none): a long name or address is drawn smaller to fit beside the
    photo, never cut (the card's image holds all of it)."""
    image: Image.Image = Image.open(io.BytesIO(data))
    image.load()
    size = (image.width * scale, image.height * scale)
    resample = Image.Resampling.NEAREST
    if max_width and size[0] > max_width:
        size = (max_width, max(1, round(image.height * max_width / image.width)))
        resample = Image.Resampling.LANCZOS
        image = image.convert("L")
    canvas.paste(image.convert("RGB").resize(size, resample), at)
    return size


def draw_card_face(face: CardFace) -> Image.Image:
    """The card front as an RGB image of :data:`CARD_SIZE`."""
    canvas = Image.new("RGB", CARD_SIZE, (250, 250, 246))
    draw = ImageDraw.Draw(canvas)
    small, text, title = label_font(20), label_font(26), label_font(30)
    draw.rounded_rectangle((4, 4, CARD_SIZE[0] - 5, CARD_SIZE[1] - 5), 24, outline=_GREY, width=2)
    draw.text((36, 24), "個人番号カード", font=title, fill=_INK)
    draw.text((330, 30), "TEST — not a real card / 見本", font=small, fill=_RED)

    photo_at = (CARD_SIZE[0] - 36 - 192, 88)
    beside_photo = photo_at[0] - 16 - 110  # the room left of the photo
    draw.text((36, 92), "氏名", font=small, fill=_GREY)
    _paste(canvas, face.name_png, (110, 80), 2, beside_photo)
    draw.text((36, 170), "住所", font=small, fill=_GREY)
    address_size = _paste(canvas, face.address_png, (110, 160), 2, beside_photo)
    y = max(260, 160 + address_size[1] + 20)
    draw.text((36, y), f"{era_date(face.birth_date)}生", font=text, fill=_INK)
    draw.text((400, y), f"性別 {_SEX.get(face.sex, face.sex)}", font=text, fill=_INK)
    draw.text((36, y + 56), "有効期限", font=small, fill=_GREY)
    expiry = face.expiry
    draw.text(
        (140, y + 50),
        f"{expiry[:4]}年{int(expiry[4:6])}月{int(expiry[6:])}日まで",
        font=text,
        fill=_INK,
    )

    _paste(canvas, face.photo_jp2, photo_at, 2)
    draw.text((photo_at[0], 350), "セキュリティコード", font=small, fill=_GREY)
    _paste(canvas, face.security_code_png, (photo_at[0] + 40, 380), 4)
    draw.rectangle((0, CARD_SIZE[1] - 70, CARD_SIZE[0], CARD_SIZE[1] - 40), fill=_RED)
    draw.text(
        (CARD_SIZE[0] // 2, CARD_SIZE[1] - 55),
        "TEST CARD — synthetic holder, test keys — mynumber-card-emulator",
        font=small,
        fill=(255, 255, 255),
        anchor="mm",
    )
    return canvas


def png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
