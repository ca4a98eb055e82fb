#!/usr/bin/python3
"""A stand-in engine for the sv-run self-test.

Answers --build-info, and otherwise writes canned output into -l OUTDIR
chosen by the basename of the -r capture.  Every run also logs an `argv`
event (its command line, config and some environment) so tests can check
how sv-run called it, and bumps a per-test counter in $SV_FAKE_STATE.
"""
import json
import os
import signal
import subprocess
import sys
import time

CANNED = [
    {"event_type": "alert", "src_ip": "10.0.0.1", "src_port": 1234,
     "dest_ip": "10.0.0.2", "dest_port": 80, "proto": "TCP", "pcap_cnt": 3,
     "flag": True, "nullfield": None, "ratio": 2.0,
     "alert": {"signature_id": 1, "signature": "TEST one", "severity": 3,
               "metadata": {"tag": ["a", "b", "c"]}},
     "http": {"hostname": "example.com", "url": "/index.html",
              "status": 200}},
    {"event_type": "dns",
     "dns": {"type": "answer", "flags": "8180", "rrname": "a.example",
             "answers": [{"rrname": "a.example", "rdata": "1.2.3.4"},
                         {"rrname": "a.example", "rdata": "5.6.7.8"}]}},
    {"event_type": "flow", "flow": {"pkts_toserver": 4, "age": 0}},
    {"event_type": "stats", "stats": {"decoder": {"pkts": 10}}},
    {"event_type": "stats", "stats": {"decoder": {"pkts": 42,
                                                  "bytes": 4096}}},
]


def opt(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def bump(test_dir):
    state = os.environ.get("SV_FAKE_STATE")
    if not state or not test_dir:
        return 0
    path = os.path.join(state, os.path.basename(test_dir) + ".count")
    with open(path, "a") as f:
        f.write("x\n")
    with open(path) as f:
        return len(f.readlines())


def main(argv):
    if argv[:1] == ["--build-info"]:
        print("This is a fake nightjar")
        print("Version: 8.0.0 (nightjar 0.1.0)")
        print("Features: GeoIP2 HAVE_JA3")
        return 0
    outdir = opt(argv, "-l") or "."
    pcap = os.path.basename(opt(argv, "-r") or "none")
    rules = opt(argv, "-S")
    n = bump(os.environ.get("TEST_DIR"))
    print("fake engine: pcap %s" % pcap, file=sys.stderr)

    if pcap == "crash.pcap":
        os.kill(os.getpid(), signal.SIGSEGV)
    if pcap == "sleep.pcap":
        time.sleep(60)
    if pcap == "exit1.pcap":
        return 1
    if pcap == "retry.pcap" and n < 3:
        return 1

    events = [{"event_type": "argv", "argv": argv,
               "argv0": os.path.basename(sys.argv[0]),
               "config": os.path.basename(opt(argv, "-c") or ""),
               "rules": os.path.basename(rules) if rules else None,
               "env": {k: os.environ.get(k) for k in ("TZ", "FOO")},
               "cwd_is_outdir": os.path.realpath(os.getcwd())
               == os.path.realpath(outdir)}]
    if pcap != "none":
        events += [e for e in CANNED if rules or e["event_type"] != "alert"]
    text = "".join(json.dumps(e) + "\n" for e in events)
    if pcap == "zst.pcap":
        subprocess.run(["zstd", "-q", "-o", os.path.join(outdir, "eve.json.zst")],
                       input=text.encode(), check=True)
    else:
        with open(os.path.join(outdir, "eve.json"), "w") as f:
            f.write(text)
    with open(os.path.join(outdir, "fast.log"), "w") as f:
        if rules and pcap != "none":
            f.write("01/01/2024-00:00:00.000000  [**] [1:1:0] TEST one [**]\n")
    with open(os.path.join(outdir, "datasets.csv"), "w") as f:
        f.write("a,b\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
