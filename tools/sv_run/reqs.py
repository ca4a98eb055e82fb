"""`requires:` and `skip:` evaluation (FORMAT.md section 3)."""
import os
import platform
import re
import subprocess

_VERSION = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class Unsatisfied(Exception):
    """A requirement is not met: the test or check is skipped."""


class Malformed(Exception):
    """The test description cannot be understood: the test fails."""


def parse_version(text):
    """'7' -> (7, None, None); '8.0.3' -> (8, 0, 3).  YAML may hand us an
    int or a float ('6.0' -> 6.0); str() gives the written form back."""
    m = _VERSION.match(str(text))
    if not m:
        raise Malformed("bad version %r" % (text,))
    return tuple(int(g) if g is not None else None for g in m.groups())


def _full(v):
    return tuple(x if x is not None else 0 for x in v)


def version_cmp(a, b):
    """Compare as major.minor.patch with missing parts counting as 0."""
    a, b = _full(a), _full(b)
    return (a > b) - (a < b)


def version_prefix_equal(want, have):
    """`version: 7.0` matches 7.0.y: only the parts written must agree."""
    for w, h in zip(want, have):
        if w is not None and h is not None and w != h:
            return False
    return True


class Platform:
    """What the runner claims to be: version, build features, platform."""

    def __init__(self, version="8.0.0", features=(), srcdir=None, env=None):
        self.version = parse_version(version)
        self.version_text = str(version)
        self.features = set(features)
        self.os = platform.system().lower() or "linux"
        self.arch = platform.machine().lower()
        self.srcdir = srcdir
        self.env = env if env is not None else os.environ

    def has_feature(self, name):
        return str(name) in self.features


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def check_requires(requires, plat, rules_ok=True):
    """Raise Unsatisfied (skip) or Malformed (fail); return on success."""
    if requires is None:
        return
    if not isinstance(requires, dict):
        raise Malformed("requires is not a map")
    for key, value in requires.items():
        if key == "min-version":
            if version_cmp(plat.version, parse_version(value)) < 0:
                raise Unsatisfied("requires min-version %s" % value)
        elif key == "lt-version":
            if version_cmp(plat.version, parse_version(value)) >= 0:
                raise Unsatisfied("requires lt-version %s" % value)
        elif key == "gt-version":
            if version_cmp(plat.version, parse_version(value)) <= 0:
                raise Unsatisfied("requires gt-version %s" % value)
        elif key == "version":
            if not version_prefix_equal(parse_version(value), plat.version):
                raise Unsatisfied("requires version %s" % value)
        elif key == "features":
            for feature in _as_list(value):
                if not plat.has_feature(feature):
                    raise Unsatisfied("requires feature %s" % feature)
        elif key == "os":
            if not plat.os.startswith(str(value).lower()):
                raise Unsatisfied("requires os %s" % value)
        elif key == "arch":
            if not plat.arch.startswith(str(value).lower()):
                raise Unsatisfied("requires arch %s" % value)
        elif key == "files":
            for name in _as_list(value):
                path = os.path.join(plat.srcdir or ".", str(name))
                if not os.path.exists(path):
                    raise Unsatisfied("requires file %s" % name)
        elif key == "env":
            for name in _as_list(value):
                if str(name) not in plat.env:
                    raise Unsatisfied("requires env %s" % name)
        elif key == "script":
            for script in _as_list(value):
                rc = subprocess.call(["bash", "-c", str(script)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     cwd=plat.srcdir, timeout=60)
                if rc != 0:
                    raise Unsatisfied("requires script failed")
        elif key == "lambda":
            import sys  # noqa: F401  (visible to the expression)
            try:
                ok = eval(str(value), {"sys": sys, "os": os,
                                       "platform": platform})
            except Exception as e:
                raise Malformed("requires lambda: %s" % e) from None
            if not ok:
                raise Unsatisfied("requires %s" % value)
        elif key == "pcap":
            pass  # handled where the capture is resolved
        else:
            raise Malformed("unknown requires key %r" % (key,))


def check_skip(skip, plat, config=None):
    """Test-level `skip:`; raise Unsatisfied when the test must be skipped.
    `config` is the flattened configuration the test runs with."""
    if skip is None or skip is False:
        return
    if skip is True:
        raise Unsatisfied("skipped by default")
    if not isinstance(skip, list):
        raise Malformed("skip is neither a bool nor a list")
    for item in skip:
        if not isinstance(item, dict):
            raise Malformed("skip item is not a map")
        if "uid" in item and hasattr(os, "getuid") and os.getuid() == item["uid"]:
            raise Unsatisfied(str(item.get("msg", "not for uid %s" % item["uid"])))
        if "feature" in item and plat.has_feature(item["feature"]):
            raise Unsatisfied(str(item.get("msg", "not for feature %s" % item["feature"])))
        if "config" in item:
            if not isinstance(item["config"], dict):
                raise Malformed("skip config is not a map")
            for pattern, want in item["config"].items():
                for key, have in (config or {}).items():
                    if re.match(str(pattern), key) and \
                            _conf_str(want) == _conf_str(have):
                        raise Unsatisfied("not for %s = %s" % (key, want))


def _conf_str(value):
    """Config values compare as strings, with YAML 1.1 boolean spellings
    (a PyYAML-loaded file gives True, a --set gives 'yes') made equal."""
    text = str(value).lower() if isinstance(value, (bool, str)) else str(value)
    if text in ("true", "yes", "on"):
        return "true"
    if text in ("false", "no", "off"):
        return "false"
    return str(value)


def flatten_config(tree, prefix="", out=None):
    """suricata.yaml -> {'a.b.c': value} like `suricata --dump-config`."""
    if out is None:
        out = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            flatten_config(v, "%s%s" % (prefix + "." if prefix else "", k), out)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            flatten_config(v, "%s.%d" % (prefix, i), out)
    else:
        out[prefix] = tree
    return out
