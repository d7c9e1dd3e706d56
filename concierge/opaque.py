"""Opaque identifiers: the integer keys of our rows, as patients and nurses see them in URLs.

Sequential ids are guarded (someone else's id answers 404), but they still tell anyone with an
account how many visits, payments and messages the clinic has, and which id comes next. So every
URL a patient or nurse sees carries a token instead: the key through a keyed permutation of the
64-bit integers (a Feistel network whose round function is HMAC-SHA256), written in 13 base-32
characters. Without the key, neighbouring ids give unrelated tokens; with it, the token turns back
into the key without a table, so no model and no migration changes.

One converter, registered once as ``<oid:pk>``: ``reverse()`` and ``{% url %}`` keep passing
integers, and views keep receiving them. A plain integer (an old link) does not match the
converter's pattern, and a token that does not decode to a key in range is refused the same way:
both answer 404. The template filter ``oid`` (``{% load opaque %}``) writes the same token where a
key would otherwise show in a page (element ids, a payment's reference).

The key comes from ``URL_ID_KEY``, or is derived from ``SECRET_KEY`` when that is empty. Changing
it changes every token: links in emails already sent would then answer 404.
"""

import hashlib
import hmac
import re
from functools import lru_cache

from django.conf import settings

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, lower case: no i, l, o, u
LENGTH = 13  # 13 x 5 bits hold 64
PATTERN = "[0-9a-hjkmnp-tv-z]{13}"
_TOKEN = re.compile(PATTERN)
_ROUNDS = 6
_MASK32 = 0xFFFFFFFF
# The largest key a database column can hold (bigint); anything above is no row of ours.
MAX_KEY = 2**63 - 1


@lru_cache(maxsize=4)
def _round_keys(secret: str) -> tuple[bytes, ...]:
    master = hmac.new(secret.encode(), b"concierge.opaque-ids.v1", hashlib.sha256).digest()
    return tuple(hmac.new(master, bytes([i]), hashlib.sha256).digest() for i in range(_ROUNDS))


def _keys() -> tuple[bytes, ...]:
    return _round_keys(getattr(settings, "URL_ID_KEY", "") or settings.SECRET_KEY)


def _f(key: bytes, half: int) -> int:
    return int.from_bytes(hmac.new(key, half.to_bytes(4, "big"), hashlib.sha256).digest()[:4], "big")


def _permute(number: int, keys: tuple[bytes, ...]) -> int:
    left, right = number >> 32, number & _MASK32
    for key in keys:
        left, right = right, left ^ _f(key, right)
    return (left << 32) | right


def _unpermute(number: int, keys: tuple[bytes, ...]) -> int:
    left, right = number >> 32, number & _MASK32
    for key in reversed(keys):
        left, right = right ^ _f(key, left), left
    return (left << 32) | right


def encode(key: int) -> str:
    """The token for a row's integer key."""
    if isinstance(key, bool) or not isinstance(key, int) or not 0 < key <= MAX_KEY:
        raise ValueError(f"not a row key: {key!r}")
    return _token(key, _keys())


# A token is the same for the same key and secret, and making one is six HMACs (~45 µs): a list
# of 100 payments names each twice (its reference, its checkbox). The process keeps the last ones.
@lru_cache(maxsize=8192)
def _token(key: int, keys: tuple[bytes, ...]) -> str:
    number = _permute(key, keys)
    chars = []
    for _ in range(LENGTH):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def decode(token: str) -> int:
    """The integer key behind a token; ValueError for anything that is not one of ours."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValueError("not a token")
    number = 0
    for char in token:
        number = number * 32 + ALPHABET.index(char)
    if number >> 64:
        raise ValueError("not a token")
    key = _unpermute(number, _keys())
    if not 0 < key <= MAX_KEY:
        raise ValueError("not a token")
    return key


def _as_key(value: object) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"not a row key: {value!r}")


class OpaqueIdConverter:
    """``<oid:pk>``: the view gets the integer key, the URL shows the token."""

    regex = PATTERN

    def to_python(self, value: str) -> int:
        return decode(value)

    def to_url(self, value: object) -> str:
        return encode(_as_key(value))
