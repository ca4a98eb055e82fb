#!/usr/bin/python3
"""Files carved from HTTP through the real binary: fileinfo hashes and filestore v2.

pcapgen's http-file scenario downloads one file of a chosen size and prints its
SHA-256. Nightjar must log a fileinfo event with that SHA-256, the right size
and state CLOSED, and store the file as filestore/xx/SHA256 with exactly those
bytes; also with packets reordered and duplicated on the wire.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

CONFIG = """%YAML 1.1
---
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types:
        - http
        - files:
            force-hash: [md5, sha256]
        - flow
  - file-store:
      version: 2
      enabled: yes
      dir: filestore
      force-filestore: yes
stream:
  reassembly:
    depth: 0
"""

failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)


def one(size, extra):
    work = tempfile.mkdtemp(prefix="nj-files-")
    pcap = os.path.join(work, "f.pcap")
    p = subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "http-file",
                        "--http-file-size", str(size)] + extra,
                       check=True, stderr=subprocess.PIPE, text=True)
    m = re.search(r"sha256 ([0-9a-f]{64})", p.stderr)
    check(m is not None, f"pcapgen did not print the sha256: {p.stderr}")
    want = m.group(1)
    cfg = os.path.join(work, "nj.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    outdir, _ = nj.run(pcap, ["-c", cfg], outdir=os.path.join(work, "out"))
    evs = nj.events(outdir, "eve.json")
    files = [e for e in evs if e["event_type"] == "fileinfo"]
    check(len(files) == 1, f"size {size} {extra}: {len(files)} fileinfo events, want 1")
    if not files:
        return
    fi = files[0]["fileinfo"]
    check(fi.get("sha256") == want, f"size {size} {extra}: sha256 {fi.get('sha256')}, want {want}")
    check(fi.get("size") == size, f"size {size} {extra}: size {fi.get('size')}")
    check(fi.get("state") == "CLOSED", f"size {size} {extra}: state {fi.get('state')}")
    check(fi.get("stored") is True, f"size {size} {extra}: stored {fi.get('stored')}")
    check(files[0].get("app_proto") == "http", f"app_proto {files[0].get('app_proto')}")
    check("http" in files[0], "fileinfo without its http object")
    path = os.path.join(outdir, "filestore", want[:2], want)
    check(os.path.exists(path), f"stored file {path} missing")
    if os.path.exists(path):
        data = open(path, "rb").read()
        check(hashlib.sha256(data).hexdigest() == want, "stored bytes differ")
        check(len(data) == size, f"stored size {len(data)}")
    tmp = os.path.join(outdir, "filestore", "tmp")
    check(not os.path.isdir(tmp) or not os.listdir(tmp), "temporary files left behind")


def main():
    one(300000, [])
    one(123457, ["--reorder", "20", "--duplicate", "10"])
    if failures:
        print(f"{failures} failures")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
