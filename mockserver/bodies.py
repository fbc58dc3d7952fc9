"""Request bodies: read no more than the limit, decode JSON without leaking Python's own limits.

Two things a client can send break Python's `json` module in ways that used to reach the client
as Python's own words: nesting a thousand levels deep ("maximum recursion depth exceeded") and
integers of more than 4300 digits ("use sys.set_int_max_str_digits()"). Here each becomes a
`BodyProblem` the pipeline answers as a 400 in the platform's shape, naming the field when there
is one (as for `1e999`, another number JSON can write and Python cannot hold). A UTF-8 byte
order mark before the JSON is skipped (RFC 8259 lets a parser ignore it; Windows tools write one).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

READ_SIZE = 64 * 1024  # a chunked body is read in pieces this size, up to the limit
MAX_DEPTH = 100  # Ruby's JSON.parse refuses deeper nesting by default (`max_nesting: 100`)
MAX_DIGITS = sys.get_int_max_str_digits() or 4300  # what `int()` takes from text (0: no limit)
UTF8_BOM = b"\xef\xbb\xbf"


class BodyProblem(ValueError):
    """A body that cannot be read as JSON; `reason` says why in plain words, naming the field if one is to blame."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_at_most(stream: Any, limit: int) -> bytes:
    """At most `limit` bytes of a stream the server ends (a chunked body): never the whole of a huge one."""
    pieces: list[bytes] = []
    remaining = limit
    while remaining > 0:
        piece = stream.read(min(READ_SIZE, remaining))
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


def strip_bom(raw: bytes) -> bytes:
    return raw[len(UTF8_BOM) :] if raw.startswith(UTF8_BOM) else raw


class OutOfRange:
    """Stands in, while looking for it, for a number Python cannot hold: too many digits, or beyond a float."""

    def __init__(self, text: str):
        self.text = text

    def reason(self) -> str:
        if "." in self.text or "e" in self.text.lower():
            return f"is out of range (a number beyond {sys.float_info.max:.3e})"
        return f"is out of range (an integer of {len(self.text.lstrip('+-'))} digits; at most {MAX_DIGITS})"


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range")
    return number


class _NotJson(ValueError):
    """NaN, Infinity: Python's json reads them, JSON has no such values."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON")


# Built once: `json.loads` with options builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_FINDER = json.JSONDecoder(  # only after a number was refused: marks it so that its field can be named
    parse_constant=_reject_constant,
    parse_float=lambda text: OutOfRange(text) if math.isinf(float(text)) else float(text),
    parse_int=lambda text: OutOfRange(text) if len(text.lstrip("+-")) > MAX_DIGITS else int(text),
)


def decode_json(raw: bytes) -> Any:
    """The JSON of a body (a leading BOM skipped), or a `BodyProblem` saying what is wrong in plain words."""
    try:
        text = strip_bom(raw).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyProblem("the request body is not UTF-8") from error
    try:
        body = _DECODER.decode(text)
    except RecursionError as error:
        raise BodyProblem(f"the request body nests deeper than {MAX_DEPTH} levels") from error
    except (json.JSONDecodeError, _NotJson) as error:
        raise BodyProblem(f"the request body is not valid JSON ({error})") from error
    except ValueError as error:  # a number Python cannot hold (int() and float() say so in their own words)
        raise _out_of_range(text) from error
    # Deep nesting costs a walk only when the body has more brackets than the limit allows levels.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth_of(body) > MAX_DEPTH:
        raise BodyProblem(f"the request body nests deeper than {MAX_DEPTH} levels")
    return body


def _out_of_range(text: str) -> BodyProblem:
    try:
        marked = _FINDER.decode(text)
    except (json.JSONDecodeError, _NotJson) as error:  # a syntax error after the number: report that
        return BodyProblem(f"the request body is not valid JSON ({error})")
    except RecursionError:
        return BodyProblem(f"the request body nests deeper than {MAX_DEPTH} levels")
    found = [(field, leaf) for field, leaf in _walk(marked) if isinstance(leaf, OutOfRange)]
    if not found:
        return BodyProblem("the request body has a number out of range")
    field, leaf = found[0]
    return BodyProblem(f"the number at {field or 'the top'} {leaf.reason()}")


def _walk(document: Any) -> list[tuple[str, Any]]:
    """(dotted field, value) for every leaf, without recursion (the document may be deep)."""
    leaves = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        field, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{field}.{key}" if field else str(key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{field}.{index}" if field else str(index), item) for index, item in enumerate(value))
        else:
            leaves.append((field, value))
    return sorted(leaves, key=lambda leaf: leaf[0])


def depth_of(document: Any) -> int:
    """How many containers deep `document` goes (a scalar is 0, `[]` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((item, depth) for item in (value.values() if isinstance(value, dict) else value))
    return deepest
