"""What we know about the engine: its --build-info, and how suricata-verify
`args:` map onto its command line."""
import re
import subprocess

# The one table of Suricata options seen in test `args:`.
#   option -> (action, takes_value)
#   action "pass": give it to the engine; "drop": our engine does not know
#   it (remembered and reported with --verbose).
# `--opt=value` spellings are looked up by the part before '='.
ARG_TABLE = {
    "-k": ("pass", True),
    "--set": ("pass", True),
    "-T": ("pass", False),
    "--engine-analysis": ("pass", False),
    "--data-dir": ("pass", True),
    "--runmode": ("drop", True),
    "--simulate-ips": ("drop", False),
    "--no-random": ("drop", False),
    "--init-errors-fatal": ("pass", False),
    "--disable-detection": ("drop", False),
    "--strict-rule-keywords": ("drop", False),
    "--qa-skip-prefilter": ("drop", False),
    "-v": ("drop", False),
}
_VERBOSE = re.compile(r"^-v+$")


def split_args(arg_strings):
    """`args:` is a list of strings, each split on whitespace."""
    out = []
    for s in arg_strings or []:
        out.extend(t for t in re.split(r"\s+", str(s)) if t)
    return out


def map_args(tokens):
    """Map Suricata argv tokens onto ours.  Returns (passed, dropped).

    `--set K=V` is always emitted as the two items `--set`, `K=V`.
    Unknown options are dropped together with a following non-option
    token (their probable value)."""
    passed, dropped = [], []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, eq, inline = tok.partition("=")
        if not tok.startswith("--"):
            name, eq, inline = tok, "", ""
        if _VERBOSE.match(tok):
            action, takes = "drop", False
        elif name in ARG_TABLE:
            action, takes = ARG_TABLE[name]
        else:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            action = "drop"
            takes = bool(tok.startswith("-") and not eq and nxt is not None
                         and not nxt.startswith("-"))
        group = [tok]
        if takes and not eq and i + 1 < len(tokens):
            group.append(tokens[i + 1])
            i += 1
        i += 1
        if action == "pass":
            if name == "--set" and eq:
                group = ["--set", inline]
            passed.extend(group)
        else:
            dropped.append(" ".join(group))
    return passed, dropped


class BuildInfo:
    def __init__(self, version=None, features=(), ok=True, error=None):
        self.version = version
        self.features = list(features)
        self.ok = ok
        self.error = error


def build_info(nightjar, timeout=30):
    """Run `NIGHTJAR --build-info` and parse `Version:` / `Features:`."""
    try:
        p = subprocess.run([nightjar, "--build-info"], capture_output=True,
                           text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as e:
        return BuildInfo(ok=False, error=str(e))
    version, features = None, []
    for line in p.stdout.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "Version":
            version = value.strip()
        elif key == "Features":
            features = value.split()
    if p.returncode != 0:
        return BuildInfo(version, features, ok=False,
                         error="--build-info exited %d" % p.returncode)
    return BuildInfo(version, features)
