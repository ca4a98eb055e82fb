#!/usr/bin/python3
"""Beacon detection and ICMP echo analysis through the real binary.

pcapgen's default scenario holds an ICMP beacon from 10.0.0.5 every 60 s with
10% jitter (20 echo requests, each answered) among a few hundred ordinary
flows. Nightjar must report exactly that series as a beacon (and nothing
else), with an interval near 60 s; with the beacon removed (--beacon with a
count of 0 is not allowed, so a beacon of 3 requests: too few) it must report
none. ICMP flow events carry the echo summary.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)


def run(extra):
    work = tempfile.mkdtemp(prefix="nj-beacon-")
    pcap = os.path.join(work, "b.pcap")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "default"] + extra, check=True,
                   stderr=subprocess.DEVNULL)
    outdir, _ = nj.run(pcap, outdir=os.path.join(work, "out"))
    return nj.events(outdir)


def main():
    evs = run([])
    beacons = [e for e in evs if e["event_type"] == "beacon"]
    check(len(beacons) >= 1, f"default scenario: {len(beacons)} beacon events, want at least 1")
    new = [b for b in beacons if b["beacon"].get("state") == "new"]
    check(len(new) == 1, f"{len(new)} 'new' beacon events, want exactly 1: {new}")
    for b in new:
        check(b["src_ip"] == "10.0.0.5", f"beacon source {b['src_ip']}")
        check(b["proto"] == "ICMP", f"beacon proto {b['proto']}")
        med = b["beacon"]["interval_median_s"]
        check(54 <= med <= 66, f"beacon median interval {med}, want about 60")
        check(b["beacon"]["score"] >= 0.8, f"beacon score {b['beacon']['score']}")
    icmp_flows = [e for e in evs if e["event_type"] == "flow" and "icmp" in e]
    check(len(icmp_flows) > 0, "no ICMP flow carries an icmp object")
    answered = [e for e in icmp_flows if e["icmp"].get("replies", 0) > 0]
    check(len(answered) > 0, "no ICMP flow with echo replies")
    for e in answered:
        rtt = e["icmp"].get("rtt_avg_ms")
        check(rtt is not None and rtt > 0, f"answered echo flow without rtt: {e['icmp']}")
        break

    # too few echoes to be a beacon: no report
    evs = run(["--beacon", "10.0.0.5:60:10:3"])
    beacons = [e for e in evs if e["event_type"] == "beacon" and e.get("src_ip") == "10.0.0.5"]
    check(len(beacons) == 0, f"3 echoes reported as a beacon: {beacons}")

    if failures:
        print(f"{failures} failures")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
