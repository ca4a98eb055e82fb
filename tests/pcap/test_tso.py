"""Frames captured on the sending host with TCP segmentation offload carry
IPv4 total length 0 (the NIC fills it in later). They must be decoded with the
captured length as the datagram, so their payload reaches the stream and the
app-layer: the SMB writes of the Mordor Covenant captures and an HTTP response
in the log4shell capture are only complete with them. Real captures from the
shared corpus (skip when it is absent); known answers from each folder's
README / expected_joins.json (hashes computed with tshark, not by us)."""
import glob
import os
import tempfile

import nj

CONFIG = """%YAML 1.1
---
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types:
        - http
        - smb
        - anomaly
        - files:
            force-hash: [sha256]
        - flow
        - stats
stream:
  reassembly:
    depth: 0
"""

# (folder, capture glob, app_proto, filename, size, sha256)
CASES = [
    ("covenant-smb-copy", "*.cap", "smb", "ProgramData\\GruntHTTP.exe", 11776,
     "32c9597d44e4872b8f275ab8a09f6ff81273b808e6289d7fba87a2c079471830"),
    ("covenant-wmi-wbemcomn-dll-hijack", "*WORKSTATION5*.cap", "smb",
     "Windows\\System32\\wbem\\wbemcomn.dll", 214528,
     "5cffeebc4be60d76e6a38b6c41e3ba993c47fb125b7b1df5c2ed9a7f4f7b9d16"),
    ("log4shell-serialized-windows", "*.pcapng", "http", "/Log4j-2.14.0-SNAPSHOT/api", 3973,
     None),  # the README gives only the hash prefix
]
LOG4SHELL_PREFIX = "cadd3856"

c = nj.Checks()
fusion = nj.need_corpus("fusion")
tmp = tempfile.mkdtemp(prefix="nj-tso-")
conf = os.path.join(tmp, "nightjar.yaml")
with open(conf, "w") as f:
    f.write(CONFIG)

for folder, pattern, proto, name, size, sha in CASES:
    caps = sorted(glob.glob(os.path.join(fusion, folder, pattern)))
    if not caps:
        print(f"SKIP: no {pattern} in {os.path.join(fusion, folder)}")
        raise SystemExit(nj.SKIP)
    outdir, _ = nj.run(caps[0], ["-c", conf], outdir=os.path.join(tmp, folder))
    ev = nj.events(outdir, "eve.json")
    files = [e for e in ev if e["event_type"] == "fileinfo"
             and e["fileinfo"].get("filename") == name and e.get("app_proto") == proto]
    c.check(len(files) >= 1, f"{folder}: fileinfo for {name} ({len(files)} found)")
    for e in files[:1]:
        fi = e["fileinfo"]
        c.check(fi.get("size") == size, f"{folder}: {name} size {fi.get('size')}, want {size}")
        c.check(fi.get("state") == "CLOSED", f"{folder}: {name} state {fi.get('state')}")
        got = fi.get("sha256") or ""
        if sha:
            c.check(got == sha, f"{folder}: {name} sha256 {got}, want {sha}")
        else:
            c.check(got.startswith(LOG4SHELL_PREFIX),
                    f"{folder}: {name} sha256 {got}, want {LOG4SHELL_PREFIX}...")
    bad = [e for e in ev if e["event_type"] == "anomaly"
           and e["anomaly"].get("event") == "decoder.ipv4.iplen_smaller_than_hlen"]
    c.check(not bad, f"{folder}: {len(bad)} iplen_smaller_than_hlen anomalies (want 0)")
    stats = [e for e in ev if e["event_type"] == "stats"]
    tso = stats[-1]["stats"]["decoder"].get("ipv4_tso", 0) if stats else 0
    c.check(tso > 0, f"{folder}: decoder.ipv4_tso {tso} (want > 0)")
c.done()
