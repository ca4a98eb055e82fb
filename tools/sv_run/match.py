"""Match semantics of suricata-verify `filter` and `stats` checks.

FORMAT.md section 4.1 is the specification.  Everything here is pure: it
takes decoded JSON values and the PyYAML-decoded `match` map and answers.
"""
import re

# Suffixes that operate on the value found at the path before them.
STRING_OPS = ("__find", "__contains", "__startswith", "__endswith")
COMPARE_OPS = ("__gte", "__gt", "__lte", "__lt")

_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")


class MatchError(Exception):
    """An operator could not be applied; upstream raises, so the whole
    check fails (not just this event)."""


class _Absent:
    """Marker for a path that resolved to nothing.  Compares like None."""

    def __repr__(self):
        return "<absent>"


ABSENT = _Absent()


def lookup(obj, path):
    """Resolve a dotted path with optional [N] parts.

    Returns ABSENT when a member is missing, an index is out of range or
    applied to a non-array, or a member is looked up in a non-object.
    `__len` as a part yields the length of the value found so far (-1 when
    it has none, including JSON null); an absent path stays ABSENT.
    """
    for part in path.split("."):
        if part == "__len":
            try:
                return len(obj)
            except TypeError:
                return -1
        m = _INDEXED.match(part)
        name, index = (m.group(1), int(m.group(2))) if m else (part, None)
        if not isinstance(obj, dict) or name not in obj:
            return ABSENT
        obj = obj[name]
        if index is not None:
            if not isinstance(obj, list) or index >= len(obj):
                return ABSENT
            obj = obj[index]
    return obj


def is_nothing(value):
    return value is ABSENT or value is None


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare(op, val, expected):
    """Numeric comparison; false when either side is not a number or is a
    boolean."""
    if not _is_number(val) or not _is_number(expected):
        return False
    if op == "__gt":
        return val > expected
    if op == "__gte":
        return val >= expected
    if op == "__lt":
        return val < expected
    return val <= expected


def equal(val, expected):
    """Plain equality with Python semantics; null matches absence."""
    if val is ABSENT:
        val = None
    return val == expected


def split_op(key):
    """'a.b.__gt' -> ('a.b', '__gt'); 'a.b' -> ('a.b', None)."""
    for op in STRING_OPS + COMPARE_OPS:
        if key.endswith("." + op):
            return key[: -len(op) - 1], op
    return key, None


def _paths(value):
    if isinstance(value, list):
        return value
    return [value]


def match_entry(event, key, expected):
    """One `match` entry against one event.  Raises MatchError where the
    upstream runner would raise."""
    if key == "has-key":
        return all(not is_nothing(lookup(event, str(p))) for p in _paths(expected))
    if key == "not-has-key":
        return all(is_nothing(lookup(event, str(p))) for p in _paths(expected))
    path, op = split_op(key)
    if op is None:
        return equal(lookup(event, path), expected)
    val = lookup(event, path)
    if op in COMPARE_OPS:
        return compare(op, val, expected)
    if val is ABSENT:
        raise MatchError("%s: path absent" % key)
    try:
        if op == "__find":
            if not isinstance(val, str):
                raise TypeError("not a string")
            return expected in val
        if op == "__contains":
            if not isinstance(val, (str, list, dict)):
                raise TypeError("not an array or string")
            return expected in val
        if not isinstance(val, str):
            raise TypeError("not a string")
        if op == "__startswith":
            return val.startswith(expected)
        return val.endswith(expected)
    except TypeError as e:
        raise MatchError("%s: %s" % (key, e)) from None


def match_event(event, match):
    """True when every entry of `match` holds (in order, short-circuit,
    like the upstream runner, so an error on a later key is only raised for
    events that passed the earlier keys)."""
    for key, expected in match.items():
        if not match_entry(event, str(key), expected):
            return False
    return True


def count_matches(events, match):
    return sum(1 for ev in events if match_event(ev, match))


def stats_entry(stats, key, expected):
    """One `stats:` entry against the `stats` object of the last stats
    event: equality, or a comparison when the key has a __gt.. suffix."""
    path, op = split_op(key)
    if op in COMPARE_OPS:
        return compare(op, lookup(stats, path), expected)
    if op is not None:
        return match_entry(stats, key, expected)
    return equal(lookup(stats, key), expected)
