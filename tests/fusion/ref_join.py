#!/usr/bin/python3
"""A deliberately plain reference join, to show pcapgen's endpoint data can be
joined (and to hold the scorer against a real joiner). It is a test oracle, not
nightjar-fuse: no streaming, no memory bound, no clock learning beyond a median.

usage: ref_join.py --eve EVE -i FORMAT:FILE -o OUT [--window S]

network events: the flow with the same 5-tuple whose start is nearest to
  UtcTime minus the host's median offset, within --window seconds;
files: the Sysmon 15 / osquery file_events SHA-256 equal to a fileinfo sha256;
DNS: a DNS query from the host's address with the same name, nearest in time.
Writes {"event_type":"fusion", ...} lines in nightjar-fuse's shape.
"""
import argparse
import bisect
import collections
import datetime
import ipaddress
import json
import re
import statistics

OSQ = {"process_events": 1, "socket_events": 3, "process_file_events": 11,
       "file_events": 15}


def ip(s):
    """One text form per address (EVE writes IPv6 in full, Sysmon compressed)."""
    try:
        return ipaddress.ip_address(s).compressed
    except ValueError:
        return s


def ts(s):
    s = s.replace("Z", "+0000")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            d = datetime.datetime.strptime(s, fmt)
            if d.tzinfo is None:
                d = d.replace(tzinfo=datetime.timezone.utc)
            return d.timestamp()
        except ValueError:
            pass
    raise ValueError(s)


def endpoint(fmt, path):
    for line in open(path):
        j = json.loads(line)
        if fmt == "winlogbeat":
            w = j["winlog"]
            d = w["event_data"]
            yield dict(host=w["computer_name"].split(".")[0], rec=int(w["record_id"]),
                       eid=int(w["event_id"]), guid=d.get("ProcessGuid"),
                       pid=int(d.get("ProcessId", 0)), image=d.get("Image"), d=d,
                       utc=ts(d["UtcTime"]))
        elif fmt == "sysmon-json":
            yield dict(host=j["Hostname"].split(".")[0], rec=int(j["RecordNumber"]),
                       eid=j["EventID"], guid=j.get("ProcessGuid"), pid=int(j.get("ProcessId", 0)),
                       image=j.get("Image"), d=j, utc=ts(j["UtcTime"]))
        else:
            c = j["columns"]
            eid = OSQ[j["name"]]
            d = dict(c)
            if eid == 3:
                d.update(Protocol={"6": "tcp", "17": "udp"}.get(c["protocol"]),
                         SourceIp=c["local_address"], SourcePort=c["local_port"],
                         DestinationIp=c["remote_address"], DestinationPort=c["remote_port"])
            if eid == 15:
                d["Hash"] = "SHA256=" + c["sha256"]
            yield dict(host=j["hostIdentifier"].upper(), rec=int(c["eid"]), eid=eid, guid=None,
                       pid=int(c.get("pid", 0) or 0), image=c.get("path"), d=d,
                       utc=float(c["time"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eve", required=True)
    ap.add_argument("-i", required=True)
    ap.add_argument("-o", required=True)
    ap.add_argument("--window", type=float, default=5.0)
    a = ap.parse_args()
    fmt, _, path = a.i.partition(":")

    flows = collections.defaultdict(list)  # tuple -> [(start, cid)]
    files = collections.defaultdict(list)  # sha256 -> [ev]
    dns = collections.defaultdict(list)  # (src_ip, name) -> [(t, cid, rrname)]
    for line in open(a.eve):
        e = json.loads(line)
        t = e.get("event_type")
        if t == "flow" and e["proto"] in ("TCP", "UDP"):
            key = (e["proto"].lower(), ip(e["src_ip"]), e["src_port"], ip(e["dest_ip"]),
                   e["dest_port"])
            flows[key].append((ts(e["flow"]["start"]), e.get("community_id")))
        elif t == "fileinfo" and e["fileinfo"].get("sha256"):
            files[e["fileinfo"]["sha256"]].append(e)
        elif t == "dns" and e["dns"].get("type") == "request":
            for q in e["dns"].get("queries", []):
                dns[(ip(e["src_ip"]), q["rrname"])].append((ts(e["timestamp"]), e.get("community_id"),
                                                        q["rrname"]))
    evs = list(endpoint(fmt, path))
    host_ip = collections.defaultdict(set)
    written = {}  # osquery: (host, path) -> pid of the process that wrote it
    # clock offset per host: median of (UtcTime - flow start) over exact tuples
    offs = collections.defaultdict(list)
    for ev in evs:
        if ev["eid"] == 11 and fmt == "osquery":
            written[(ev["host"], ev["d"]["path"])] = ev["pid"]
        if ev["eid"] == 3:
            d = ev["d"]
            key = (d["Protocol"], ip(d["SourceIp"]), int(d["SourcePort"]), ip(d["DestinationIp"]),
                   int(d["DestinationPort"]))
            host_ip[ev["host"]].add(ip(d["SourceIp"]))
            c = flows.get(key)
            v = min((ev["utc"] - s for s, _ in c or []), key=abs, default=None)
            if v is not None and abs(v) <= a.window:  # a reused tuple is no clock sample
                offs[ev["host"]].append(v)
    off = {h: statistics.median(v) for h, v in offs.items()}

    out = open(a.o, "w")

    def emit(ev, cid, method, delta, net):
        o = {"event_type": "fusion", "community_id": cid, "host": {"name": ev["host"]},
             "endpoint": {"source": "osquery" if fmt == "osquery" else "sysmon",
                          "format": fmt, "event_id": ev["eid"], "record_id": ev["rec"]},
             "process": {"entity_id": ev["guid"], "pid": ev["pid"], "executable": ev["image"]},
             "join": {"method": method, "confidence": 1.0, "offset_s": round(delta, 3)},
             "network": net}
        out.write(json.dumps(o) + "\n")

    for ev in evs:
        d = ev["d"]
        o = off.get(ev["host"], 0.0)
        if ev["eid"] == 3:
            key = (d["Protocol"], ip(d["SourceIp"]), int(d["SourcePort"]), ip(d["DestinationIp"]),
                   int(d["DestinationPort"]))
            best = min(flows.get(key, []), key=lambda x: abs(ev["utc"] - o - x[0]), default=None)
            if best and abs(ev["utc"] - o - best[0]) <= a.window:
                emit(ev, best[1], "5-tuple", ev["utc"] - best[0], {"event_type": "flow"})
        elif ev["eid"] == 15:
            m = re.search(r"SHA256=([0-9A-Fa-f]{64})", d.get("Hash", ""))
            if fmt == "osquery":
                ev["pid"] = written.get((ev["host"], d["target_path"]), 0)
            for fe in files.get(m.group(1).lower(), []) if m else []:
                emit(ev, fe.get("community_id"), "hash", 0.0,
                     {"event_type": "fileinfo", "fileinfo": {"sha256": m.group(1).lower()}})
                break
        elif ev["eid"] == 22 and ev["host"] in host_ip:
            times = sorted(x for a in host_ip[ev["host"]] for x in dns.get((a, d["QueryName"]), []))
            i = bisect.bisect_left(times, (ev["utc"] - o,))
            near = [x for x in times[max(0, i - 1): i + 1] if abs(ev["utc"] - o - x[0]) <= a.window]
            if near:
                x = min(near, key=lambda x: abs(ev["utc"] - o - x[0]))
                emit(ev, x[1], "dns", ev["utc"] - x[0],
                     {"event_type": "dns", "dns": {"rrname": x[2]}})
    out.close()


if __name__ == "__main__":
    main()
