#!/usr/bin/python3
"""Parsers through the real binary on generated packets, checked against ground truth.

pcapgen writes the default scenario pcap and, with --truth, one JSON line per
application exchange it generated (tuple, HTTP method/url/host/status/user
agent, DNS id/name/type/rcode, TLS SNI/version). nightjar reads the pcap; every
truth line of the protocols named on the command line must have a matching EVE
event with the same values, and the flow events must carry the app_proto.

usage: test_truth.py APP [APP...]   (APP in http, dns, tls)
"""
import collections
import ipaddress
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

failures = 0


def fail(msg):
    global failures
    failures += 1
    if failures <= 30:
        print("FAIL:", msg)


def ip(s):
    return ipaddress.ip_address(s)


def key(src, sport, dst, dport):
    return (ip(src), int(sport), ip(dst), int(dport))


def event_key(e, reverse=False):
    k = key(e["src_ip"], e.get("src_port", 0), e["dest_ip"], e.get("dest_port", 0))
    return (k[2], k[3], k[0], k[1]) if reverse else k


def check_http(truth, evs):
    by_flow = collections.defaultdict(list)
    for e in evs:
        if e["event_type"] == "http":
            by_flow[event_key(e)].append(e)
    for t in truth:
        k = key(t["src_ip"], t["src_port"], t["dest_ip"], t["dest_port"])
        txs = [e for e in by_flow.get(k, []) if e.get("tx_id") == t["tx"]]
        if len(txs) != 1:
            fail(f"http {k} tx {t['tx']}: {len(txs)} events (want 1)")
            continue
        h = txs[0]["http"]
        for ek, tk in (("hostname", "hostname"), ("url", "url"), ("http_method", "method"),
                       ("http_user_agent", "user_agent"), ("status", "status")):
            if h.get(ek) != t[tk]:
                fail(f"http {k} tx {t['tx']}: {ek} {h.get(ek)!r}, want {t[tk]!r}")


def check_dns(truth, evs):
    # Suricata 8 (version 3): a "request" and a "response" event per transaction
    seen = collections.defaultdict(list)
    for e in evs:
        if e["event_type"] != "dns":
            continue
        d = e["dns"]
        typ = d.get("type")
        if typ == "request":
            seen[(event_key(e), d.get("id"), "request")].append(e)
        elif typ == "response":
            seen[(event_key(e, reverse=True), d.get("id"), "response")].append(e)
    for t in truth:
        k = key(t["src_ip"], t["src_port"], t["dest_ip"], t["dest_port"])
        for typ in ("request", "response"):
            got = seen.get((k, t["id"], typ), [])
            if len(got) != 1:
                fail(f"dns {k} id {t['id']} {typ}: {len(got)} events (want 1)")
                continue
            d = got[0]["dns"]
            qs = d.get("queries") or []
            name = qs[0].get("rrname") if qs else d.get("rrname")
            if name != t["rrname"]:
                fail(f"dns {k} id {t['id']} {typ}: rrname {name!r}, want {t['rrname']!r}")
            if typ == "response":
                rcode = d.get("rcode")
                want = "NXDOMAIN" if t["rcode"] == 3 else "NOERROR"
                if rcode != want:
                    fail(f"dns {k} id {t['id']}: rcode {rcode!r}, want {want}")


def check_tls(truth, evs):
    by_flow = collections.defaultdict(list)
    for e in evs:
        if e["event_type"] == "tls":
            by_flow[event_key(e)].append(e)
    for t in truth:
        k = key(t["src_ip"], t["src_port"], t["dest_ip"], t["dest_port"])
        got = by_flow.get(k, [])
        if len(got) != 1:
            fail(f"tls {k}: {len(got)} events (want 1)")
            continue
        tls = got[0]["tls"]
        if tls.get("sni") != t["sni"]:
            fail(f"tls {k}: sni {tls.get('sni')!r}, want {t['sni']!r}")
        if tls.get("version") != t["version"]:
            fail(f"tls {k}: version {tls.get('version')!r}, want {t['version']!r}")
        ja3 = tls.get("ja3", {})
        if len(ja3.get("hash", "")) != 32:
            fail(f"tls {k}: no ja3 hash")


CHECKS = {"http": check_http, "dns": check_dns, "tls": check_tls}


def main():
    apps = sys.argv[1:] or list(CHECKS)
    work = tempfile.mkdtemp(prefix="nj-truth-")
    pcap = os.path.join(work, "default.pcap")
    truth_path = os.path.join(work, "truth.jsonl")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "default", "--truth", truth_path],
                   check=True, stderr=subprocess.DEVNULL)
    truth = [nj.json.loads(line) for line in open(truth_path)]
    # no reassembly depth: the generator's downloads exceed Suricata's default 1 MiB, after
    # which (as in Suricata) later transactions of the flow are not seen
    outdir, _ = nj.run(pcap, ["--set", "stream.reassembly.depth=0"],
                       outdir=os.path.join(work, "out"))
    evs = nj.events(outdir)
    flows = {}
    for e in evs:
        if e["event_type"] == "flow":
            flows[event_key(e)] = e
    for app in apps:
        lines = [t for t in truth if t["app"] == app]
        if not lines:
            fail(f"{app}: the generator wrote no exchanges")
            continue
        CHECKS[app](lines, evs)
        for t in lines:
            k = key(t["src_ip"], t["src_port"], t["dest_ip"], t["dest_port"])
            f = flows.get(k)
            if not f:
                fail(f"{app} {k}: no flow event")
            elif f.get("app_proto") != app:
                fail(f"{app} {k}: flow app_proto {f.get('app_proto')!r}")
        print(f"{app}: {len(lines)} exchanges checked")
    if failures:
        print(f"{failures} failures")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
