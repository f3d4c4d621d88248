"""The card-face images of a holder, drawn once per machine: an on-disk cache beside the key cache.

Issuing the card-surface AP (券面事項確認AP, card-interface.md §6) draws five images with Pillow
(:mod:`card_emulator.face`): name, address, photo, security code and My Number. In a new process
that costs about 25 ms — importing Pillow, its image plugins, the drawing — on top of a card that
otherwise takes a few tens. The images depend on nothing but their inputs, so they are kept on disk
and a holder drawn before on this machine is issued without Pillow.

An entry is found by a SHA-256 over everything the bytes depend on: the holder's text, the seed of
the photo, the source of ``card_emulator/face.py`` (any change to the drawing is a new key), the
Pillow version, and the font (its path, size and modification time). It holds the images in base64
and a SHA-256 over them; an entry that does not parse or match is logged, the images drawn again and
the entry rewritten. Writes are atomic (temporary file + rename), so concurrent processes see a
whole entry or none. The bytes are the same with or without the cache.

Location: the key cache's setting (:mod:`card_emulator.key_cache`) decides. ``MYNACARD_KEY_CACHE=off``
turns this cache off too; ``MYNACARD_KEY_CACHE=DIR`` puts it in ``DIR/faces``; by default
``$XDG_CACHE_HOME/mynumber-card-emulator/faces`` (or ``~/.cache/...``). A directory that cannot be
written is skipped.

The font is chosen here (:func:`font_path`) so that the cache key can name it without importing
Pillow; :mod:`card_emulator.face` draws with it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import astuple, dataclass
from functools import cache
from pathlib import Path

from card_emulator import key_cache

__all__ = [
    "DEBIAN_FONTS",
    "FONT_ENV",
    "FORMAT",
    "FaceImages",
    "cache_dir",
    "card_images",
    "draw_images",
    "font_path",
]

log = logging.getLogger(__name__)

FORMAT = "mynumber-card-emulator card-face images v1"
FONT_ENV = "MYNACARD_FONT"
DEBIAN_FONTS = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),  # fonts-ipafont-gothic
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),  # its alternatives link
)
_NAMES = ("name_png", "address_png", "photo_jp2", "security_code_png", "my_number_png")


@dataclass(frozen=True, slots=True)
class FaceImages:
    """The five images of one card face (PNG, 1 bit; the photo JPEG 2000), as bytes."""

    name_png: bytes
    address_png: bytes
    photo_jp2: bytes
    security_code_png: bytes
    my_number_png: bytes


@cache
def font_path() -> Path | None:
    """The Japanese font in use: ``$MYNACARD_FONT``, else Debian's IPAGothic, else None (text
    is then drawn as boxes; a warning is logged once). ValueError if ``$MYNACARD_FONT`` names no
    file."""
    named = os.environ.get(FONT_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ValueError(f"{FONT_ENV}={named}: no such font file")
        return path
    for path in DEBIAN_FONTS:
        if path.is_file():
            return path
    log.warning(
        "no Japanese font (install Debian's fonts-ipafont-gothic or set %s): card-face text "
        "is drawn as boxes and its bytes differ from the reference",
        FONT_ENV,
    )
    return None


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is off (the key cache's setting, read on every
    call)."""
    keys = key_cache.cache_dir()
    if keys is None:
        return None
    if os.environ.get(key_cache.ENV_VAR, "").strip():
        return keys / "faces"
    return keys.parent / "faces"


@cache
def _drawing_identity() -> str | None:
    """What the drawing itself depends on, or None when it cannot be told (then no caching)."""
    import PIL  # the package only (its version), not the imaging modules

    try:
        source = Path(__file__).with_name("face.py").read_bytes()
        font = font_path()
        font_id = None
        if font is not None:
            stat = font.stat()
            font_id = [str(font.resolve()), stat.st_size, stat.st_mtime_ns]
    except OSError:
        return None
    material = [FORMAT, hashlib.sha256(source).hexdigest(), PIL.__version__, font_id]
    return json.dumps(material)


def _entry_id(identity: str, seed: int, texts: tuple[str, str, str, str]) -> str:
    material = json.dumps([identity, str(seed), *texts], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def _images_digest(images: FaceImages) -> str:
    digest = hashlib.sha256()
    for image in astuple(images):
        digest.update(len(image).to_bytes(4, "big") + image)
    return digest.hexdigest()


def _decode(entry_id: str, raw: bytes) -> FaceImages:
    """The images of an entry; ValueError saying what is wrong with it otherwise."""
    try:
        entry = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("id") != entry_id:
        raise ValueError("not an entry of this format and these inputs")
    encoded = entry.get("images")
    if not isinstance(encoded, dict) or not all(isinstance(encoded.get(n), str) for n in _NAMES):
        raise ValueError("images missing")
    try:
        images = FaceImages(*(base64.b64decode(encoded[n], validate=True) for n in _NAMES))
    except ValueError as error:
        raise ValueError(f"not base64 ({error})") from None
    if entry.get("sha256") != _images_digest(images):
        raise ValueError("digest mismatch")
    return images


def _save(directory: Path, entry_id: str, images: FaceImages) -> None:
    entry = {
        "format": FORMAT,
        "id": entry_id,
        "images": {n: base64.b64encode(getattr(images, n)).decode() for n in _NAMES},
        "sha256": _images_digest(images),
        "note": "TEST card-face images of a synthetic holder (card_emulator.face)",
    }
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(entry, handle)
            os.replace(temporary, directory / f"{entry_id}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        log.debug("face cache: cannot write in %s: %s", directory, error)


def draw_images(
    seed: int, name: str, address: str, security_code: str, my_number: str
) -> FaceImages:
    """The five images drawn now (:mod:`card_emulator.face`, Pillow), without the cache."""
    from card_emulator import face  # Pillow: imported only when something is drawn

    return FaceImages(
        name_png=face.name_image(name),
        address_png=face.address_image(address),
        photo_jp2=face.face_photo(seed),
        security_code_png=face.digits_image(security_code),
        my_number_png=face.digits_image(my_number),
    )


def card_images(
    seed: int, name: str, address: str, security_code: str, my_number: str
) -> FaceImages:
    """The five images of a holder's card face: from the cache when a sound entry is there, else
    drawn (and the entry written). The same bytes either way. ``seed`` picks the photo (§6.2)."""
    directory = cache_dir()
    identity = None if directory is None else _drawing_identity()
    if directory is None or identity is None:
        return draw_images(seed, name, address, security_code, my_number)
    entry_id = _entry_id(identity, seed, (name, address, security_code, my_number))
    path = directory / f"{entry_id}.json"
    try:
        return _decode(entry_id, path.read_bytes())
    except FileNotFoundError:
        pass
    except OSError as error:
        log.debug("face cache: cannot read %s: %s", path, error)
    except ValueError as error:
        log.warning("face cache: damaged entry %s (%s); the images are drawn again", path, error)
    images = draw_images(seed, name, address, security_code, my_number)
    _save(directory, entry_id, images)
    return images
