"""Shared helpers for the tests that run the real nightjar binary on pcaps."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")
SKIP = 77  # meson's skip status


def build_dir():
    return os.environ.get("NJ_BUILD_DIR", os.path.join(REPO, "build"))


def binary():
    return os.environ.get("NJ_BINARY", os.path.join(build_dir(), "nightjar"))


def pcapgen():
    return os.environ.get("NJ_PCAPGEN", os.path.join(build_dir(), "tools", "pcapgen", "pcapgen"))


def need_corpus(*parts):
    path = os.path.join(CORPUS, *parts)
    if not os.path.exists(path):
        print(f"SKIP: {path} is not here (the shared corpus is absent)")
        sys.exit(SKIP)
    return path


def run(pcap, args=(), outdir=None, timeout=600):
    """Runs nightjar -r pcap into outdir and returns (outdir, completed process)."""
    outdir = outdir or tempfile.mkdtemp(prefix="nj-test-")
    cmd = [binary(), "-r", pcap, "-l", outdir] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        print("command:", " ".join(cmd))
        print(p.stdout)
        print(p.stderr)
        raise SystemExit(f"FAIL: nightjar exited {p.returncode}")
    return outdir, p


def events(outdir, name="eve.json.zst"):
    path = os.path.join(outdir, name)
    if name.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, check=True).stdout.decode()
    else:
        data = open(path).read()
    out = []
    for n, line in enumerate(data.splitlines(), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise SystemExit(f"FAIL: {path}:{n}: not JSON ({e}): {line[:200]}")
    return out


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)

    def done(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)
