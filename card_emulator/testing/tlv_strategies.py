"""Hypothesis strategies for BER-TLV (ISO 7816-4 §5.2, X.690 §8.1), re-exported by
``card_emulator.testing.strategies``: tags of 1–3 bytes, primitive objects with every valid length
form, constructed objects nested a few levels."""

from __future__ import annotations

from hypothesis import strategies as st

from apdu import Tlv

__all__ = ["primitive_tlvs", "tags", "tlvs"]

# ---------------------------------------------------------------------------------------------


@st.composite
def tags(draw: st.DrawFn, constructed: bool | None = None) -> int:
    """Structurally valid BER tags of 1 to 3 bytes (ISO 7816-4 §5.2.2.1, X.690 §8.1.2)."""
    cls_bits = draw(st.sampled_from([0x00, 0x40, 0x80, 0xC0]))
    if constructed is None:
        constructed = draw(st.booleans())
    first = cls_bits | (0x20 if constructed else 0)
    size = draw(st.sampled_from([1, 2, 2, 3]))
    if size == 1:
        number = draw(st.integers(1 if first == 0 else 0, 0x1E))
        return first | number
    head = first | 0x1F
    if size == 2:
        return (head << 8) | draw(st.integers(0x00, 0x7F))
    return (head << 16) | (draw(st.integers(0x80, 0xFF)) << 8) | draw(st.integers(0x00, 0x7F))


def _min_length_size(n: int) -> int:
    return 1 if n < 0x80 else 2 if n <= 0xFF else 3 if n <= 0xFFFF else 4


@st.composite
def _length_size_for(draw: st.DrawFn, value_len: int) -> int:
    sizes = [0, *range(_min_length_size(value_len), 5)]  # 0 = minimal; 5 > 83 xx xx xx
    size: int = draw(st.sampled_from(sizes))
    return size


@st.composite
def primitive_tlvs(draw: st.DrawFn) -> Tlv:
    """Primitive objects with random values and random (valid) forced length sizes."""
    tag = draw(tags(constructed=False))
    value = draw(st.one_of(st.binary(max_size=40), st.binary(min_size=120, max_size=300)))
    return Tlv(tag, value, draw(_length_size_for(len(value))))


@st.composite
def _constructed_from(draw: st.DrawFn, children: st.SearchStrategy[list[Tlv]]) -> Tlv:
    tag = draw(tags(constructed=True))
    kids = draw(children)
    value_len = sum(k.size for k in kids)
    return Tlv.of_children(tag, kids, length_size=draw(_length_size_for(value_len)))


def tlvs() -> st.SearchStrategy[Tlv]:
    """Primitive objects and constructed ones nested a few levels; a constructed object's value is
    always exactly its children, so ``t.children()`` rebuilds it."""
    return st.recursive(
        primitive_tlvs(),
        lambda inner: _constructed_from(st.lists(inner, max_size=4)),
        max_leaves=12,
    )
