#!/usr/bin/python3
"""Score nightjar-fuse's joins against pcapgen's endpoint truth.

usage: score_joins.py --fusion OUT[.zst] --truth ENDPOINT_TRUTH [--eve EVE[.zst]]
                      [--min-net-rate 0.99] [--max-wrong 0] [--min-file-rate 1.0]
                      [--min-dns-rate 0] [--min-file-name-joins 0] [--label TEXT]

OUT holds nightjar-fuse's JSON lines; only {"event_type":"fusion"} lines count.
Each names the endpoint record it used (endpoint.record_id and host.name) and the
flow (community_id); file joins carry the carved file's network.fileinfo.sha256
(or network.sha256) and the process (process.entity_id / process.guid / pid).

The truth is pcapgen's --endpoint-truth: per endpoint event its host, record id,
event id, loss, and for network events the Community ID of the flow on the wire.

Printed and checked:
  network  endpoint network events (not lost) joined to the right flow on the
           right host / all of them;
  wrong    fusion events that join a record to another flow or host, a file to
           another process, or that name a record which does not exist or was lost;
  files    stream-hash events (Sysmon 15, osquery file_events) not lost, whose
           file was carved (sha256 in the EVE fileinfo when --eve is given), joined
           to their process / all of them;
  dns      DNS query events (EID 22) joined to their flow or query name;
  names    file-create records (EID 11) joined by the SMB file name (join method
           `file_name`: an SMB CREATE or an SMB fileinfo, e.g. on the server host
           that stored the file). Right when the flow (Community ID), the file
           (sha256, when the event has one) and the file name (last path
           component, case-insensitive) are the record's; any of them differing
           is a wrong join.
Exit 1 when a threshold is missed, 2 on unusable input.
"""
import argparse
import collections
import json
import re
import statistics
import subprocess
import sys


def open_lines(path):
    """Lines of a JSON-lines file, zstd-compressed when it ends in .zst."""
    if path.endswith(".zst"):
        try:
            import zstandard  # Debian python3-zstandard

            with open(path, "rb") as f:
                data = zstandard.ZstdDecompressor().stream_reader(f).read()
        except ImportError:
            data = subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE,
                                  check=True).stdout
        return data.decode("utf-8", "replace").splitlines()
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def jpath(d, path):
    """d["a"]["b"][0]... for "a.b.0"; None when any step is missing."""
    for k in path.split("."):
        if isinstance(d, list) and k.isdigit() and int(k) < len(d):
            d = d[int(k)]
        elif isinstance(d, dict) and k in d:
            d = d[k]
        else:
            return None
    return d


def first(d, *paths):
    for p in paths:
        v = jpath(d, p)
        if v not in (None, ""):
            return v
    return None


def norm_host(h):
    return str(h).split(".")[0].lower() if h not in (None, "") else None


def norm_guid(g):
    return str(g).strip("{}").lower() if g not in (None, "") else None


def as_int(v):
    try:
        return int(str(v).lstrip("0") or "0") if v not in (None, "") else None
    except ValueError:
        return None


def base_name(p):
    """Last path component, lowercased: SMB, Windows and Linux spell paths differently."""
    return re.split(r"[\\/]", str(p))[-1].lower()


def fmt_is_sysmon(ev):
    """osquery rows carry no process GUID: pcapgen's truth GUIDs are its own there."""
    return str(first(ev, "endpoint.source", "endpoint.format") or "sysmon") != "osquery"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fusion", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--eve")
    ap.add_argument("--min-net-rate", type=float, default=0.99)
    ap.add_argument("--max-wrong", type=int, default=0)
    ap.add_argument("--min-file-rate", type=float, default=1.0)
    ap.add_argument("--min-dns-rate", type=float, default=0.0)
    ap.add_argument("--min-file-name-joins", type=int, default=0)
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    truth = {}
    by_rec = collections.defaultdict(list)
    files_by_sha = collections.defaultdict(list)
    for n, line in enumerate(open_lines(a.truth), 1):
        try:
            t = json.loads(line)
        except ValueError:
            print(f"score_joins: {a.truth}:{n}: not JSON")
            return 2
        key = (norm_host(t["host"]), int(t["record_id"]))
        truth[key] = t
        by_rec[key[1]].append(key)
        if t.get("sha256") and t["event_id"] == 15:
            files_by_sha[t["sha256"].lower()].append(t)

    carved = None
    if a.eve:
        carved = set()
        for line in open_lines(a.eve):
            if '"fileinfo"' not in line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            s = jpath(e, "fileinfo.sha256")
            if e.get("event_type") == "fileinfo" and s:
                carved.add(s.lower())

    net_ok, dns_ok, file_ok, name_ok = set(), set(), set(), set()
    n_file_name = 0
    wrong = collections.Counter()
    wrong_items = set()
    examples = []
    offsets = []
    offset_err = []  # |join.offset_s| against the true |UtcTime - first packet|
    nfusion = 0

    def bad(kind, item, ev):
        wrong[kind] += 1
        wrong_items.add(item)
        if len(examples) < 8:
            examples.append(f"{kind}: {json.dumps(ev)[:400]}")

    for line in open_lines(a.fusion):
        if '"fusion"' not in line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("event_type") != "fusion":
            continue
        nfusion += 1
        host = norm_host(first(ev, "host.name", "endpoint.host", "endpoint.hostname",
                               "host.hostname"))
        rec = as_int(first(ev, "endpoint.record_id", "endpoint.eid"))
        cid = first(ev, "community_id", "network.community_id", "flow.community_id")
        sha = first(ev, "network.fileinfo.sha256", "network.sha256", "fileinfo.sha256")
        guid = norm_guid(first(ev, "process.entity_id", "process.guid", "process.process_guid",
                               "endpoint.process_guid"))
        pid = as_int(first(ev, "process.pid"))
        method = first(ev, "join.method")
        if method == "file_name":
            n_file_name += 1

        if sha:
            sha = str(sha).lower()
        if rec is None:
            if not sha:
                continue  # no endpoint record: process context only
            # a join by hash alone: the file must be one a process of that host stored
            if not guid and not pid:
                continue  # a file tied to no process: neither right nor wrong
            cands = [t for t in files_by_sha.get(sha, []) if norm_host(t["host"]) == host or
                     host is None]
            match = [t for t in cands if (guid and norm_guid(t["process_guid"]) == guid) or
                     (not guid and t["pid"] == pid)]
            for t in match:
                file_ok.add((norm_host(t["host"]), t["record_id"]))
            if not match:
                bad("file joined to the wrong process/host or to no stored file", ("f", sha, host),
                    ev)
            continue
        key = (host, rec)
        if host is None and len(by_rec.get(rec, [])) == 1:
            key = by_rec[rec][0]
        t = truth.get(key)
        if t is None:
            bad("names an endpoint record that does not exist", ("r", key), ev)
            continue
        if t["lost"]:
            bad("names an endpoint record that was lost", ("r", key), ev)
            continue
        if (guid and fmt_is_sysmon(ev) and norm_guid(t.get("process_guid")) != guid) or \
                (not guid and pid and t.get("pid") != pid):
            bad("record given another process", ("r", key), ev)
            continue
        eid = t["event_id"]
        if eid == 3:
            if cid == t["community_id"]:
                net_ok.add(key)
                off = jpath(ev, "join.offset_s")
                if isinstance(off, (int, float)):
                    offsets.append(off)
                    offset_err.append(abs(abs(off) - abs(t["utc_offset_s"])))
            else:
                bad("network event joined to another flow", ("r", key), ev)
        elif eid == 22:
            q = first(ev, "network.dns.rrname", "network.dns.queries.0.rrname",
                      "network.dns.query.0.rrname", "dns.rrname")
            if cid == t.get("community_id") or (q and q.rstrip(".").lower() == t["query"].lower()):
                dns_ok.add(key)
            elif cid:
                bad("DNS query joined to another flow", ("r", key), ev)
        elif eid in (11, 15):
            fname = first(ev, "network.smb.filename", "network.fileinfo.filename")
            tsha = str(t.get("sha256") or "").lower()
            if sha and tsha and sha != tsha:
                bad("file event joined to another file", ("r", key), ev)
            # a hash join may find the same bytes on another flow; a file create may not
            elif (not sha or eid == 11) and cid and t.get("community_id") and \
                    cid != t["community_id"]:
                bad("file event joined to another flow", ("r", key), ev)
            elif method == "file_name" and fname and t.get("path") and \
                    base_name(fname) != base_name(t["path"]):
                bad("file event joined to another file name", ("r", key), ev)
            elif method == "file_name" and eid == 11:
                name_ok.add(key)
            elif sha and eid == 15 and (guid or pid):
                file_ok.add(key)  # the process checked above is the record's

    net_all = [k for k, t in truth.items() if t["event_id"] == 3 and not t["lost"]]
    dns_all = [k for k, t in truth.items() if t["event_id"] == 22 and not t["lost"]]
    file_all = [k for k, t in truth.items() if t["event_id"] == 15 and not t["lost"] and
                (carved is None or t["sha256"].lower() in carved)]
    file_nc = sum(1 for t in truth.values() if t["event_id"] == 15 and not t["lost"]) - \
        len(file_all)
    lost3 = sum(1 for t in truth.values() if t["event_id"] == 3 and t["lost"])
    nat3 = sum(1 for k in net_all if truth[k].get("nat"))

    def rate(ok, allk):
        return len(set(allk) & ok) / len(allk) if allk else 1.0

    nr, fr, dr = rate(net_ok, net_all), rate(file_ok, file_all), rate(dns_ok, dns_all)
    nwrong = len(wrong_items)
    label = f"[{a.label}] " if a.label else ""
    print(f"{label}fusion events read: {nfusion}")
    print(f"{label}network: {len(set(net_all) & net_ok)}/{len(net_all)} endpoint network events "
          f"joined to the right flow and host ({nr:.2%}); {lost3} lost events not counted; "
          f"{nat3} behind NAT")
    print(f"{label}wrong joins: {nwrong}" +
          "".join(f"\n    {v} x {k}" for k, v in wrong.most_common()))
    for x in examples:
        print("    e.g.", x)
    print(f"{label}files: {len(set(file_all) & file_ok)}/{len(file_all)} carved files with a "
          f"stream-hash event joined to their process ({fr:.2%})" +
          (f"; {file_nc} hash events whose file was not carved" if carved is not None else ""))
    print(f"{label}dns: {len(set(dns_all) & dns_ok)}/{len(dns_all)} DNS query events joined "
          f"({dr:.2%})")
    print(f"{label}file names: {len(name_ok)} EID 11 records joined to their SMB file by name "
          f"(file_name); {n_file_name} file_name events read")
    if offsets:
        print(f"{label}join offsets: median {statistics.median(offsets):+.3f} s, "
              f"min {min(offsets):+.3f}, max {max(offsets):+.3f}; differs from the true offset "
              f"by {statistics.median(offset_err):.3f} s (median), {max(offset_err):.3f} s (max)")
    fails = []
    if nr < a.min_net_rate:
        fails.append(f"network join rate {nr:.2%} < {a.min_net_rate:.2%}")
    if nwrong > a.max_wrong:
        fails.append(f"{nwrong} wrong joins > {a.max_wrong}")
    if fr < a.min_file_rate:
        fails.append(f"file-hash join rate {fr:.2%} < {a.min_file_rate:.2%}")
    if dr < a.min_dns_rate:
        fails.append(f"DNS join rate {dr:.2%} < {a.min_dns_rate:.2%}")
    if len(name_ok) < a.min_file_name_joins:
        fails.append(f"{len(name_ok)} file_name joins < {a.min_file_name_joins}")
    if not net_all:
        fails.append("the truth has no network events")
    for f in fails:
        print(f"{label}FAIL: {f}")
    if not fails:
        print(f"{label}ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
