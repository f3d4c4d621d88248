"""BER-TLV as ISO/IEC 7816-4 §5.2 and X.690 §8.1 define it, exact enough to round-trip card files.

Tags are ints holding the tag bytes big-endian: ``0x30``, ``0xFF10``, ``0xDF21``, ``0x7F21``,
``0x5F4E``. A first byte with b5-b1 = 11111 is followed by further tag bytes while b8 is set.
Lengths: short form (< 0x80), ``81 xx``, ``82 xx xx``, and on decode also ``83 xx xx xx``.
The card writes ``82 hh ll`` even for small values (card-interface.md §5.4-§5.5), so each
:class:`Tlv` remembers a non-minimal length encoding in ``length_size``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Tlv",
    "TlvError",
    "decode_all",
    "decode_tlv",
    "decode_with_offsets",
    "encode_tlv",
    "find",
    "find_all",
    "is_constructed",
    "tag_bytes",
]

MAX_TAG_BYTES = 4
MAX_LENGTH_SIZE = 4  # 83 xx xx xx
MAX_VALUE_LENGTH = 0xFFFFFF


class TlvError(ValueError):
    """Bytes that are not BER-TLV (truncated, bad tag, bad length), or an impossible Tlv."""


def tag_bytes(tag: int) -> bytes:
    """The wire bytes of ``tag`` (e.g. ``0xFF10`` → ``FF 10``); raises TlvError if not a tag."""
    if not isinstance(tag, int) or isinstance(tag, bool) or tag <= 0:
        raise TlvError(f"tag must be a positive int, got {tag!r}")
    size = (tag.bit_length() + 7) // 8
    if size > MAX_TAG_BYTES:
        raise TlvError(f"tag 0x{tag:X} longer than {MAX_TAG_BYTES} bytes")
    raw = tag.to_bytes(size, "big")
    multi = raw[0] & 0x1F == 0x1F
    if size == 1:
        if multi:
            raise TlvError(f"tag 0x{tag:02X} announces further tag bytes (b5-b1 = 11111)")
        return raw
    if not multi:
        raise TlvError(f"tag 0x{tag:X}: first byte 0x{raw[0]:02X} is a complete one-byte tag")
    if any(b & 0x80 == 0 for b in raw[1:-1]) or raw[-1] & 0x80:
        raise TlvError(f"tag 0x{tag:X}: only the last tag byte may have b8 clear")
    return raw


def is_constructed(tag: int) -> bool:
    """b6 of the first tag byte (X.690 §8.1.2.5): the value is itself TLV objects."""
    return bool(tag_bytes(tag)[0] & 0x20)


def _min_length_size(length: int) -> int:
    if length < 0x80:
        return 1
    if length > MAX_VALUE_LENGTH:
        raise TlvError(f"value longer than {MAX_VALUE_LENGTH} bytes: {length}")
    return 1 + (length.bit_length() + 7) // 8


def _length_bytes(length: int, length_size: int) -> bytes:
    if length_size == 1:
        return bytes([length])
    return bytes([0x80 | (length_size - 1)]) + length.to_bytes(length_size - 1, "big")


@dataclass(frozen=True, slots=True, repr=False)
class Tlv:
    """One BER-TLV object.

    ``length_size``: 0 = minimal length encoding; 1 = short form, 2 = ``81 xx``, 3 = ``82 xx xx``,
    4 = ``83 xx xx xx`` forced on the wire. It is normalised to 0 when the forced size equals the
    minimal one, so a decoded object equals the one that encoded it and compares by its bytes.
    """

    tag: int
    value: bytes
    length_size: int = 0

    def __post_init__(self) -> None:
        tag_bytes(self.tag)
        if not isinstance(self.value, bytes):
            if not isinstance(self.value, bytearray | memoryview):
                raise TlvError(f"value must be bytes, got {type(self.value).__name__}")
            object.__setattr__(self, "value", bytes(self.value))
        minimal = _min_length_size(len(self.value))
        size = self.length_size
        if not isinstance(size, int) or not 0 <= size <= MAX_LENGTH_SIZE:
            raise TlvError(f"length_size must be 0..{MAX_LENGTH_SIZE}, got {size!r}")
        if size and size < minimal:
            raise TlvError(
                f"a {len(self.value)}-byte value needs {minimal} length bytes, not {size}"
            )
        if size == minimal:
            object.__setattr__(self, "length_size", 0)

    @classmethod
    def of_children(cls, tag: int, children: Iterable[Tlv], *, length_size: int = 0) -> Tlv:
        """A constructed object whose value is the concatenation of ``children``."""
        return cls(tag, b"".join(c.to_bytes() for c in children), length_size)

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    @property
    def header_size(self) -> int:
        """Bytes of tag and length fields: the value starts this far after the object's start."""
        size = self.length_size or _min_length_size(len(self.value))
        return len(tag_bytes(self.tag)) + size

    @property
    def size(self) -> int:
        """Total encoded size in bytes."""
        return self.header_size + len(self.value)

    def to_bytes(self) -> bytes:
        """The TLV encoded: tag bytes, length (minimal, or the ``length_size`` it was read or built
        with: ``82 hh ll`` as the card writes it), value."""
        size = self.length_size or _min_length_size(len(self.value))
        return tag_bytes(self.tag) + _length_bytes(len(self.value), size) + self.value

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def children(self, *, skip_padding: bool = True) -> list[Tlv]:
        """Decode the value as concatenated TLV objects (for constructed tags)."""
        return decode_all(self.value, skip_padding=skip_padding)

    def __repr__(self) -> str:
        extra = f", length_size={self.length_size}" if self.length_size else ""
        return f"Tlv(tag=0x{self.tag:02X}, value={self.value!r}{extra})"


def encode_tlv(tag: int, value: bytes, *, length_size: int = 0) -> bytes:
    """``tag || length || value``; ``length_size`` as in :class:`Tlv`."""
    return Tlv(tag, value, length_size).to_bytes()


def decode_tlv(buf: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Decode one object at ``offset``; returns it and the offset just after it."""
    n = len(buf)
    if not 0 <= offset < n:
        raise TlvError(f"no TLV object at offset {offset} of a {n}-byte buffer")
    pos = offset
    first = buf[pos]
    if first == 0x00:
        raise TlvError(f"byte 00 at offset {pos} is filler, not a tag")
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= n:
                raise TlvError(f"truncated tag at offset {offset}")
            b = buf[pos]
            pos += 1
            tag = (tag << 8) | b
            if pos - offset > MAX_TAG_BYTES:
                raise TlvError(f"tag at offset {offset} longer than {MAX_TAG_BYTES} bytes")
            if not b & 0x80:
                break
    if pos >= n:
        raise TlvError(f"missing length of tag 0x{tag:X} at offset {offset}")
    lead = buf[pos]
    pos += 1
    if lead < 0x80:
        length, length_size = lead, 1
    elif 0x81 <= lead <= 0x80 + MAX_LENGTH_SIZE - 1:
        k = lead & 0x7F
        if pos + k > n:
            raise TlvError(f"truncated length of tag 0x{tag:X} at offset {offset}")
        length, length_size = int.from_bytes(buf[pos : pos + k], "big"), k + 1
        pos += k
    elif lead == 0x80:
        raise TlvError(f"indefinite length (80) of tag 0x{tag:X} at offset {offset}")
    else:
        raise TlvError(f"unsupported length byte 0x{lead:02X} of tag 0x{tag:X} at offset {offset}")
    end = pos + length
    if end > n:
        raise TlvError(
            f"value of tag 0x{tag:X} at offset {offset} truncated: {length} bytes announced, "
            f"{n - pos} present"
        )
    return Tlv(tag, bytes(buf[pos:end]), length_size), end


def decode_with_offsets(buf: bytes, *, skip_padding: bool = True) -> list[tuple[int, Tlv]]:
    """Decode concatenated objects, each with its start offset in ``buf``.

    With ``skip_padding``, ``00`` bytes before or between objects are skipped and decoding ends
    where the rest of the buffer is all ``FF`` or all ``00`` (ISO 7816-4 §5.2.2 filler; the text AP
    writes ``FF 10 0C <12 digits> FF FF``, card-interface.md §5.2).
    """
    out: list[tuple[int, Tlv]] = []
    pos, n = 0, len(buf)
    ff_tail = len(bytes(buf).rstrip(b"\xff"))  # from here on only FF bytes
    while pos < n:
        if skip_padding:
            if pos >= ff_tail:
                break
            if buf[pos] == 0x00:
                pos += 1
                continue
        tlv, end = decode_tlv(buf, pos)
        out.append((pos, tlv))
        pos = end
    return out


def decode_all(buf: bytes, *, skip_padding: bool = True) -> list[Tlv]:
    """Decode concatenated objects (filler handling as in :func:`decode_with_offsets`)."""
    return [tlv for _, tlv in decode_with_offsets(buf, skip_padding=skip_padding)]


def find(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first object with ``tag`` (one level, no recursion), or None."""
    return next((t for t in tlvs if t.tag == tag), None)


def find_all(tlvs: Iterable[Tlv], tag: int) -> list[Tlv]:
    """Every object with ``tag`` (one level, no recursion)."""
    return [t for t in tlvs if t.tag == tag]
