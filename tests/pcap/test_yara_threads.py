#!/usr/bin/env python3
"""YARA scanner threads under load (docs/yara.md, "Scanner threads").

One capture carries many files over HTTP: 200 small files (4 KiB, one of
them starting with MZ so the pe module parses it) and every sample of
../shared/corpus/yara/samples (up to the pcapgen limit). It goes through
`build/nightjar -r` with the corpus rules:

- yara.threads 0 (scan on the worker) gives the reference;
- yara.threads 1 with a queue of 2 files and queue-full wait (the worker
  blocks on the scanner) must write exactly the same fileinfo and alert
  events (compared whole, as sets of lines), valid JSON in zstd frames;
  counters: every file queued, scanned once;
- the same with a memcap of 4 chunks, so the worker also waits for the
  chunks of queued files to come back;
- queue-full skip with a queue of 1: every file is scanned or carries
  yara_status "queue_full", and the counters add up.
Skips (77) when the corpus is absent.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

CONFIG = """%YAML 1.1
---
community-id: yes
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json.zst
      types:
        - alert
        - files:
            force-hash: [md5, sha1, sha256]
        - stats
yara:
  enabled: yes
  rules: [{rules}]
{extra}
"""

c = nj.Checks()


def run(tmp, pcap, rules, extra):
    path = os.path.join(tmp, "nightjar-%d.yaml" % len(os.listdir(tmp)))
    with open(path, "w") as f:
        f.write(CONFIG.format(rules=rules, extra=extra))
    out, _ = nj.run(pcap, ["-c", path])
    evs = nj.events(out, "eve.json.zst")
    st = [e for e in evs if e.get("event_type") == "stats"]
    lines = sorted(json.dumps(e, sort_keys=True) for e in evs if e.get("event_type") != "stats")
    return evs, lines, (st[-1]["stats"].get("yara", {}) if st else {})


def main():
    samples = nj.need_corpus("yara", "samples")
    rules = os.path.abspath(nj.need_corpus("yara", "index.yar"))
    tmp = tempfile.mkdtemp(prefix="nj-yara-threads-")
    names = sorted(os.listdir(samples))[:40]
    args = []
    seed = 1
    for i in range(200):
        p = os.path.join(tmp, "f%03d.bin" % i)
        data = bytearray()
        while len(data) < 4096:
            seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            data += seed.to_bytes(8, "little")
        if i == 7:
            data[0:2] = b"MZ"
        with open(p, "wb") as f:
            f.write(bytes(data[:4096]))
        args += ["--http-file", p]
    for n in names:
        args += ["--http-file", os.path.join(samples, n)]
    pcap = os.path.join(tmp, "files.pcap")
    p = subprocess.run([nj.pcapgen(), "-o", pcap, "--seed", "3"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: pcapgen: {p.stderr}")
    nfiles = 200 + len(names)

    ref_evs, ref, ref_st = run(tmp, pcap, rules, "  threads: 0")
    fi = [e for e in ref_evs if e.get("event_type") == "fileinfo"]
    c.check(len(fi) == nfiles and all("yara" in e["fileinfo"] for e in fi),
            f"threads 0: {len(fi)} fileinfo events with yara, want {nfiles}")
    c.check(ref_st.get("scanned") == nfiles and ref_st.get("queued") == 0,
            f"threads 0: counters {ref_st}")
    nal = sum(1 for e in ref_evs if e.get("event_type") == "alert")
    c.check(nal > 0 and nal == ref_st.get("alerts"), f"threads 0: {nal} alerts, {ref_st}")

    for what, extra in (("queue 2, wait", "  threads: 1\n  queue-size: 2\n  queue-full: wait"),
                        ("queue 2, wait, memcap 64kb",
                         "  threads: 1\n  queue-size: 2\n  queue-full: wait\n  memcap: 64kb")):
        _, lines, st = run(tmp, pcap, rules, extra)
        c.check(lines == ref, f"{what}: events differ from threads 0 "
                f"({len(lines)} vs {len(ref)}: {sorted(set(lines) ^ set(ref))[:2]})")
        c.check(st.get("scanned") == nfiles and st.get("queued", 0) + st.get("inline", 0) == nfiles
                and st.get("queue_full") == 0 and st.get("memcap") == 0
                and st.get("alerts") == ref_st.get("alerts") and st.get("memuse") == 0,
                f"{what}: counters {st}")
        c.check(st.get("queue_waits", 0) > 0, f"{what}: the worker never waited: {st}")

    evs, _, st = run(tmp, pcap, rules, "  threads: 1\n  queue-size: 1\n  queue-full: skip")
    fi = [e["fileinfo"] for e in evs if e.get("event_type") == "fileinfo"]
    full = sum(1 for f in fi if f.get("yara_status") == "queue_full")
    done = sum(1 for f in fi if "yara" in f)
    c.check(len(fi) == nfiles and full > 0 and full + done == nfiles,
            f"skip: {len(fi)} fileinfo, {done} scanned + {full} queue_full, want {nfiles}")
    c.check(st.get("queue_full") == full and st.get("scanned") == done,
            f"skip: counters {st} against {done} scanned, {full} queue_full")
    c.done()


main()
