#!/usr/bin/python3
"""pcapgen's endpoint side, held against the capture it belongs to.

usage: check_endpoint.py PCAPGEN

Runs pcapgen with --endpoint-out in each format (and with NAT, losses, the
http-file scenario) and checks, reading the capture independently
(ep_wire.py):
  * every line parses as JSON with the keys of its format (Winlogbeat 8 ECS,
    flat Sysmon JSON, osquery results) and every event is in the truth file,
    every truth event not marked lost is in the output, record ids per host
    have gaps exactly where events were lost, the loss rate is near the asked;
  * each network event's tuple is a flow on the wire (through the NAT when
    there is one), the truth's Community ID is the one of that wire flow, its
    UtcTime is the flow's first packet plus the host's clock offset (within
    the --endpoint-skew bound, the same offset for all of a host's events),
    and delivery is delayed by at most the batch period;
  * every TCP/UDP flow of a client host has a network event;
  * DNS events name queries that are on the wire; file hashes (Sysmon 15
    Hash, osquery sha256) equal the SHA-256 of the HTTP download bodies and
    SMB READ data on the wire, and every wire download has one;
  * the formats carry the same events; the capture is the same with and
    without --endpoint-out; one seed gives the same bytes twice.
"""
import collections
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ep_wire  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

SKEW = 2.0
BATCH = 15.0
LOSS = 0.03
BASE = ["--seed", "21", "--flows", "500", "--duration", "240", "--ipv6-share", "10",
        "--mix", "http=35,tls=30,dns=20,smb=8,icmp=3,ntp=4"]

OSQ_EID = {"process_events": 1, "socket_events": 3, "process_file_events": 11,
           "file_events": 15}

SYSMON_KEYS = {
    1: ["UtcTime", "ProcessGuid", "ProcessId", "Image", "CommandLine", "User",
        "ParentProcessGuid", "ParentProcessId", "ParentImage", "ParentCommandLine"],
    3: ["UtcTime", "ProcessGuid", "ProcessId", "Image", "User", "Protocol", "Initiated",
        "SourceIsIpv6", "SourceIp", "SourceHostname", "SourcePort", "DestinationIsIpv6",
        "DestinationIp", "DestinationHostname", "DestinationPort"],
    22: ["UtcTime", "ProcessGuid", "ProcessId", "Image", "QueryName", "QueryStatus",
         "QueryResults"],
    11: ["UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime"],
    15: ["UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime",
         "Hash"],
}
OSQ_KEYS = {
    1: ["pid", "path", "cmdline", "parent", "time", "eid"],
    3: ["action", "pid", "path", "family", "protocol", "local_address", "local_port",
        "remote_address", "remote_port", "time", "eid"],
    11: ["operation", "pid", "executable", "path", "time", "eid"],
    15: ["target_path", "action", "md5", "sha1", "sha256", "time", "eid"],
}


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 40:
                print("FAIL:", what)
        return cond


C = Checks()


def run(gen, args, tmp, name, extra=()):
    pcap = os.path.join(tmp, name + ".pcap")
    cmd = [gen] + list(args) + ["-o", pcap] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise SystemExit(f"FAIL: {' '.join(cmd)}: exit {p.returncode}: {p.stderr}")
    return pcap, p.stderr


def sysmon_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def read_events(path, fmt):
    """Normalised events: dict(host, rec, eid, data, line)."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                j = json.loads(line)
            except ValueError as e:
                C.check(False, f"{path}:{n}: not JSON: {e}")
                continue
            if fmt == "winlogbeat":
                w = j.get("winlog", {})
                ok = C.check(all(k in j for k in ("@timestamp", "host", "event", "winlog")) and
                             j["host"].get("name") and j["event"].get("code") and
                             w.get("provider_name") == "Microsoft-Windows-Sysmon" and
                             w.get("channel") == "Microsoft-Windows-Sysmon/Operational" and
                             "record_id" in w and "event_id" in w and "computer_name" in w and
                             isinstance(w.get("event_data"), dict) and
                             str(j["event"]["code"]) == str(w["event_id"]),
                             f"{path}:{n}: not a Winlogbeat Sysmon event: {line[:300]}")
                if not ok:
                    continue
                out.append(dict(host=w["computer_name"].split(".")[0], rec=int(w["record_id"]),
                                eid=int(w["event_id"]), data=w["event_data"], n=n))
            elif fmt == "sysmon-json":
                ok = C.check(all(k in j for k in ("EventID", "Hostname", "RecordNumber",
                                                  "SourceName", "Channel", "@timestamp")) and
                             j["SourceName"] == "Microsoft-Windows-Sysmon" and
                             isinstance(j["EventID"], int),
                             f"{path}:{n}: not a flat Sysmon event: {line[:300]}")
                if not ok:
                    continue
                out.append(dict(host=j["Hostname"].split(".")[0], rec=int(j["RecordNumber"]),
                                eid=j["EventID"], data=j, n=n))
            else:
                cols = j.get("columns", {})
                ok = C.check(j.get("name") in OSQ_EID and j.get("action") == "added" and
                             all(k in j for k in ("hostIdentifier", "calendarTime",
                                                  "unixTime")) and
                             isinstance(cols, dict) and
                             all(isinstance(v, str) for v in cols.values()),
                             f"{path}:{n}: not an osquery event row: {line[:300]}")
                if not ok:
                    continue
                out.append(dict(host=j["hostIdentifier"].upper(), rec=int(cols.get("eid", -1)),
                                eid=OSQ_EID[j["name"]], data=cols, n=n))
            e = out[-1]
            keys = (OSQ_KEYS if fmt == "osquery" else SYSMON_KEYS).get(e["eid"], [])
            missing = [k for k in keys if k not in e["data"]]
            C.check(not missing, f"{path}:{n}: EID {e['eid']} lacks {missing}")
    return out


def is_client(ip):
    """pcapgen's client hosts: 10.0.1-4.x, fd00::200:0:1-4:x, and the NAT's outside address."""
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return a in ipaddress.ip_network("10.0.0.0/16") and a.packed[2] >= 1 or \
            ip == "198.18.0.1"
    return a in ipaddress.ip_network("fd00::/16")


def read_truth(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def validate(tag, pcap, out, truth_path, fmt, skew, batch, loss, nat, wire=None):
    print(f"-- {tag}")
    wire = wire or ep_wire.Wire(pcap)
    evs = read_events(out, fmt)
    truth = read_truth(truth_path)
    tkey = {(t["host"], t["record_id"]): t for t in truth}
    C.check(len(tkey) == len(truth), f"{tag}: duplicate (host, record_id) in the truth")
    seen = set()
    for e in evs:
        k = (e["host"], e["rec"])
        t = tkey.get(k)
        if not C.check(t is not None, f"{tag}: event {k} (line {e['n']}) not in the truth"):
            continue
        C.check(k not in seen, f"{tag}: event {k} written twice")
        seen.add(k)
        C.check(not t["lost"], f"{tag}: event {k} is marked lost but was written")
        C.check(t["event_id"] == e["eid"], f"{tag}: {k} event id {e['eid']} != {t['event_id']}")
        e["truth"] = t
    missing = [k for k, t in tkey.items() if not t["lost"] and k not in seen]
    C.check(not missing, f"{tag}: {len(missing)} truth events not written, e.g. {missing[:3]}")
    nlost = sum(t["lost"] for t in truth)
    frac = nlost / max(1, len(truth))
    C.check(abs(frac - loss) <= 0.02 + (0 if loss else 0),
            f"{tag}: lost {frac:.3f} of events, asked {loss}")
    # record ids: per host contiguous over the truth; the output per host in increasing order
    per_host = collections.defaultdict(list)
    for t in truth:
        per_host[t["host"]].append(t["record_id"])
    for h, ids in per_host.items():
        ids.sort()
        C.check(ids == list(range(ids[0], ids[0] + len(ids))),
                f"{tag}: {h}: record ids not contiguous in the truth")
    last = {}
    for e in evs:
        C.check(e["rec"] > last.get(e["host"], -1), f"{tag}: {e['host']}: record ids out of order")
        last[e["host"]] = e["rec"]

    # network events against the wire
    host_offsets = collections.defaultdict(list)
    net = [t for t in truth if t["event_id"] == 3]
    delays = []
    for t in net:
        wt = (t["proto"], t["wire_src_ip"], t["wire_src_port"], t["dest_ip"], t["dest_port"])
        start = wire.flows.get(wt)
        if not C.check(start is not None, f"{tag}: {t['host']}/{t['record_id']}: {wt} not on the wire"):
            continue
        C.check(ep_wire.community_id(*[wt[i] for i in (0, 1, 2, 3, 4)]) == t["community_id"],
                f"{tag}: {t['record_id']}: Community ID {t['community_id']} is not the wire's")
        off = t["utc_time"] - start
        C.check(abs(off) <= skew + 0.006, f"{tag}: {t['record_id']}: UtcTime off by {off:.3f} s")
        j = off - t["skew_s"] - t["net_skew_s"]
        C.check(-0.0015 <= j <= 0.0035, f"{tag}: {t['record_id']}: offset {off:.6f} is not the "
                f"host's {t['skew_s']:.6f} + {t['net_skew_s']:.6f} + jitter")
        host_offsets[t["host"]].append(off)
        delays.append(t["delivery_delay_s"])
        C.check(0 <= t["delivery_delay_s"] <= (batch or 0.05) + 0.25,
                f"{tag}: {t['record_id']}: delivered {t['delivery_delay_s']:.3f} s late")
        if nat and t["nat"]:
            C.check(t["wire_src_ip"] == "198.18.0.1" and t["src_ip"].startswith("10.0."),
                    f"{tag}: {t['record_id']}: NAT mapping {t['src_ip']} -> {t['wire_src_ip']}")
        else:
            C.check(t["wire_src_ip"] == t["src_ip"] and t["wire_src_port"] == t["src_port"],
                    f"{tag}: {t['record_id']}: endpoint and wire tuple differ without NAT")
    for h, offs in host_offsets.items():
        C.check(max(offs) - min(offs) <= 0.01, f"{tag}: {h}: clock offset varies "
                f"{min(offs):.3f}..{max(offs):.3f}")
    if batch and delays:
        C.check(max(delays) > batch / 2, f"{tag}: no delivery delay near the batch period")
    if nat:
        C.check(any(t["nat"] for t in net), f"{tag}: no NAT'd flow")
    all_off = [o for offs in host_offsets.values() for o in offs]
    if skew and all_off:
        C.check(max(all_off) - min(all_off) > skew / 2, f"{tag}: host offsets do not spread")
    # every client flow has its network event
    cids = {t["community_id"] for t in net}
    client = [k for k in wire.flows if is_client(k[1])]
    have = sum(ep_wire.community_id(*k) in cids for k in client)
    C.check(client and have == len(client),
            f"{tag}: {have}/{len(client)} client flows have a network event")
    # the event fields say what the truth says
    for e in evs:
        t = e.get("truth")
        if not t:
            continue
        d = e["data"]
        if e["eid"] == 3:
            if fmt == "osquery":
                got = (int(d["protocol"]), d["local_address"], int(d["local_port"]),
                       d["remote_address"], int(d["remote_port"]))
                C.check(int(d["time"]) == int(t["utc_time"]), f"{tag}: osquery time")
            else:
                got = ({"tcp": 6, "udp": 17}.get(d["Protocol"]), d["SourceIp"],
                       int(d["SourcePort"]), d["DestinationIp"], int(d["DestinationPort"]))
                C.check(abs(sysmon_time(d["UtcTime"]) - t["utc_time"]) < 0.0015,
                        f"{tag}: UtcTime {d['UtcTime']} vs truth {t['utc_time']}")
                C.check(d["Initiated"] == "true" and d["ProcessGuid"] == t["process_guid"],
                        f"{tag}: EID 3 Initiated/ProcessGuid")
            C.check(got == (t["proto"], t["src_ip"], t["src_port"], t["dest_ip"], t["dest_port"]),
                    f"{tag}: network event {got} vs truth")
        elif e["eid"] == 22:
            C.check(d["QueryName"] == t["query"] and d["QueryName"] in wire.queries,
                    f"{tag}: DNS query {d['QueryName']} not on the wire")
            C.check(re.match(r"^(-|((::ffff:[0-9.]+|[0-9a-f:]+|type:  \d+ [^;]+);)+)$",
                             d["QueryResults"]) is not None,
                    f"{tag}: QueryResults {d['QueryResults']!r}")
            C.check(t["community_id"] in wire.cids, f"{tag}: DNS flow not on the wire")
        elif e["eid"] == 15:
            if fmt == "osquery":
                got = d["sha256"]
            else:
                m = re.search(r"SHA256=([0-9A-F]{64})", d["Hash"])
                got = m.group(1).lower() if m else None
                C.check(d["TargetFilename"].endswith(":Zone.Identifier") and
                        d["ProcessGuid"] == t["process_guid"], f"{tag}: EID 15 target/guid")
            C.check(got == t["sha256"], f"{tag}: file hash {got} vs truth {t['sha256']}")
            C.check(t["sha256"] in wire.downloads or t["sha256"] in wire.smb_files,
                    f"{tag}: {t['path']}: sha256 {t['sha256']} is no file on the wire")
    # each download on the wire has its stream-hash event
    fh = {t["sha256"] for t in truth if t["event_id"] == 15}
    wire_files = set(wire.downloads) | set(wire.smb_files)
    C.check(wire_files and wire_files <= fh,
            f"{tag}: {len(wire_files - fh)} of {len(wire_files)} wire files have no hash event")
    # processes named by events were created (EID 1), except System
    created = {t["process_guid"] for t in truth if t["event_id"] == 1}
    orphans = {t["process_guid"] for t in truth if t["event_id"] in (3, 11, 15, 22)
               and t["pid"] not in (1, 4) and t["process_guid"] not in created}
    C.check(not orphans, f"{tag}: processes without a creation event: {list(orphans)[:3]}")
    counts = collections.Counter(t["event_id"] for t in truth)
    print(f"   {len(evs)} events written, {nlost} lost ({frac:.1%}); by id {dict(sorted(counts.items()))};"
          f" {len(per_host)} hosts; {len(client)} client flows; {len(wire_files)} files on the wire")
    return wire


def main():
    gen = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="ep-check-") as tmp:
        ep = lambda n: os.path.join(tmp, n)  # noqa: E731
        common = ["--endpoint-skew", str(SKEW), "--endpoint-batch", str(BATCH),
                  "--endpoint-loss", str(LOSS)]
        pcap, _ = run(gen, BASE, tmp, "w", common + ["--endpoint-out", ep("w.json"),
                      "--endpoint-format", "winlogbeat", "--endpoint-truth", ep("w.truth")])
        wire = validate("winlogbeat, 2 s skew, 15 s batches, 3% loss", pcap, ep("w.json"),
                        ep("w.truth"), "winlogbeat", SKEW, BATCH, LOSS, False)
        pcap2, _ = run(gen, BASE, tmp, "s", common + ["--endpoint-out", ep("s.json"),
                       "--endpoint-format", "sysmon-json", "--endpoint-truth", ep("s.truth")])
        validate("sysmon-json", pcap2, ep("s.json"), ep("s.truth"), "sysmon-json", SKEW, BATCH,
                 LOSS, False, wire)
        C.check(open(ep("w.truth")).read() == open(ep("s.truth")).read(),
                "winlogbeat and sysmon-json runs have different truths")
        pcap3, _ = run(gen, BASE, tmp, "o", common + ["--endpoint-out", ep("o.json"),
                       "--endpoint-format", "osquery", "--endpoint-truth", ep("o.truth")])
        validate("osquery", pcap3, ep("o.json"), ep("o.truth"), "osquery", SKEW, BATCH, LOSS,
                 False, wire)
        pcap4, _ = run(gen, BASE, tmp, "n", common + ["--endpoint-out", ep("n.json"),
                       "--endpoint-truth", ep("n.truth"), "--endpoint-nat",
                       "--endpoint-nat-map", ep("nat.yaml")])
        validate("NAT", pcap4, ep("n.json"), ep("n.truth"), "winlogbeat", SKEW, BATCH, LOSS, True)
        natmap = set(re.findall(r'- "([0-9.]+)=198\.18\.0\.1"', open(ep("nat.yaml")).read()))
        natted = {t["src_ip"] for t in read_truth(ep("n.truth")) if t.get("nat")}
        C.check(natted and natmap == natted, f"NAT map {sorted(natmap)[:5]} vs NAT'd {sorted(natted)[:5]}")
        pcap6, _ = run(gen, BASE, tmp, "ns", common + ["--endpoint-out", ep("ns.json"),
                       "--endpoint-truth", ep("ns.truth"), "--endpoint-net-skew", "8"])
        validate("network events 8 s further off", pcap6, ep("ns.json"), ep("ns.truth"),
                 "winlogbeat", SKEW + 8, BATCH, LOSS, False, wire)
        ns = read_truth(ep("ns.truth"))
        C.check(max(abs(t["net_skew_s"]) for t in ns if t["event_id"] == 3) > 4,
                "--endpoint-net-skew 8 gave no large network offset")
        C.check(all(t["net_skew_s"] == 0 for t in read_truth(ep("w.truth")) if t["event_id"] == 3),
                "network offset without --endpoint-net-skew")
        pcap5, _ = run(gen, BASE, tmp, "x", ["--endpoint-out", ep("x.json"),
                       "--endpoint-truth", ep("x.truth"), "--endpoint-batch", "0"])
        validate("no skew, no batching, no loss", pcap5, ep("x.json"), ep("x.truth"),
                 "winlogbeat", 0, 0, 0, False, wire)

        print("-- determinism and the capture")
        plain, _ = run(gen, BASE, tmp, "plain")
        same = open(plain, "rb").read()
        for p in (pcap, pcap2, pcap3, pcap5, pcap6):
            C.check(open(p, "rb").read() == same, f"{p}: capture changed by --endpoint-out")
        C.check(open(pcap4, "rb").read() != same, "NAT did not change the capture")
        run(gen, BASE, tmp, "w2", common + ["--endpoint-out", ep("w2.json"),
            "--endpoint-truth", ep("w2.truth")])
        C.check(open(ep("w.json")).read() == open(ep("w2.json")).read() and
                open(ep("w.truth")).read() == open(ep("w2.truth")).read(),
                "same seed, different endpoint events")
        other = [a if a != "21" else "22" for a in BASE]
        run(gen, other, tmp, "w3", common + ["--endpoint-out", ep("w3.json")])
        C.check(open(ep("w.json")).read() != open(ep("w3.json")).read(),
                "another seed, same endpoint events")

        print("-- http-file scenario: the streamed body's hash")
        _, err = run(gen, ["--scenario", "http-file", "--http-file-size", "3000000", "--seed",
                           "4"], tmp, "hf", ["--endpoint-out", ep("hf.json"),
                                             "--endpoint-truth", ep("hf.truth")])
        m = re.search(r"sha256 ([0-9a-f]{64})", err)
        t15 = [t for t in read_truth(ep("hf.truth")) if t["event_id"] == 15]
        C.check(m and len(t15) == 1 and t15[0]["sha256"] == m.group(1) and
                t15[0]["size"] == 3000000, f"http-file: EID 15 {t15} vs pcapgen {err.strip()}")
        ev15 = [e for e in read_events(ep("hf.json"), "winlogbeat") if e["eid"] == 15]
        C.check(len(ev15) == 1 and m and m.group(1).upper() in ev15[0]["data"]["Hash"] and
                "powershell.exe" in ev15[0]["data"]["Image"], "http-file: EID 15 event")

        print("-- every --endpoint option is documented")
        helptext = subprocess.run([gen, "--help"], stdout=subprocess.PIPE, text=True).stdout
        opts = set(re.findall(r"--endpoint-[a-z-]+", helptext))
        doc = open(os.path.join(HERE, "..", "..", "docs", "fusion-pcapgen.md")).read()
        C.check(len(opts) >= 8, f"pcapgen --help lists {sorted(opts)}")
        for o in sorted(opts):
            C.check(f"`{o}" in doc, f"docs/fusion-pcapgen.md does not document {o}")

        print("-- bad options are refused")
        for bad in (["--endpoint-format", "xml"], ["--endpoint-loss", "1.5"],
                    ["--endpoint-skew", "-1"], ["--endpoint-skew", "nan"],
                    ["--endpoint-loss", "nan"], ["--endpoint-truth", ep("t")]):
            p = subprocess.run([gen, "-o", ep("bad.pcap"), "--flows", "1"] +
                               (bad if bad[0] == "--endpoint-truth" else
                                ["--endpoint-out", ep("b.json")] + bad),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            C.check(p.returncode == 2, f"pcapgen accepted {bad}")
    print(f"{C.passed} passed, {C.failed} failed")
    sys.exit(1 if C.failed or not C.passed else 0)


if __name__ == "__main__":
    main()
