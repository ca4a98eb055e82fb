#!/usr/bin/python3
"""nightjar-fuse on the real paired captures of ../shared/corpus/fusion.

For every folder: run the real nightjar on each capture (file hashing on, the
filestore off, everything in a temp dir outside the repo), run nightjar-fuse
--once on those EVE files and every host log of the folder (the zipped one is
unzipped into the temp dir), then compare with the folder's
expected_joins.json:

* each expected EID 3 -> flow join, with the right host and process;
* each hash join (Sysmon record with the SHA-256 of a file on the wire) and
  each SMB file -> EID 11 join;
* each HTTP body on a joined flow -> the flow's process (when Nightjar logged
  the body: bodies missing from the EVE are listed, not failed);
* each DNS wire query -> its EID 22;
* none of the joins the key rules out: EID 3 records with no flow, flows
  without EID 3, EID 22 records that never reached the wire.

Prints per-folder counts (expected, produced, missing, wrong); exits 1 when
anything is missing or wrong.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402


def fuse_binary():
    return os.environ.get("NJ_FUSE", os.path.join(nj.build_dir(), "export", "fuse", "nightjar-fuse"))


def ts(s):
    """Sysmon UtcTime or ISO time -> epoch seconds."""
    s = s.strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1]
    if "+" in s[10:]:
        s = s[: s.index("+", 10)]
    if "." in s:
        head, frac = s.split(".")
        s = head + "." + frac[:6]
    else:
        s += ".0"
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def nightjar_config(tmp):
    """The shipped config with sha256 on every file; no filestore (carved implants stay unwritten)."""
    src = open(os.path.join(nj.REPO, "config", "nightjar.yaml")).read()
    cfg = src.replace("        - files\n", "        - files:\n            force-hash: [sha256]\n")
    if cfg == src:
        raise SystemExit("FAIL: cannot enable force-hash in config/nightjar.yaml")
    if "file-store" in cfg:
        raise SystemExit("FAIL: config/nightjar.yaml now has a file-store section; keep it off here")
    path = os.path.join(tmp, "nightjar.yaml")
    open(path, "w").write(cfg)
    return path


def shape(path):
    """The adapter a host log needs, named explicitly (the scorer may do so too); auto otherwise."""
    with open(path) as f:
        first = json.loads(f.readline())
    if "SyslogMessage" in first:
        return "azure-syslog-xml"
    if isinstance(first.get("EventData"), str):
        return "sentinel"
    if "EventID" in first:
        return "sysmon-json"
    return "auto"


def rec_match(ev, rec):
    """Does fusion event ev come from Sysmon record rec (by record number, else host+time+pid)?"""
    e = ev["endpoint"]
    if (ev.get("host") or {}).get("name", "").lower() != rec["host"].lower():
        return False
    if e.get("event_id") != rec["event_id"]:
        return False
    if "RecordNumber" in rec:
        return e.get("record_id") == rec["RecordNumber"]
    if abs(ts(e["time"]) - ts(rec["UtcTime"])) > 0.0015:
        return False
    return "ProcessId" not in rec or str(ev["process"].get("pid")) == str(rec["ProcessId"])


def base(p):
    return (p or "").replace("\\", "/").rsplit("/", 1)[-1].lower()


class Tally:
    def __init__(self):
        self.rows = {}
        self.problems = []

    def add(self, kind, expected=0, produced=0, missing=0, wrong=0):
        r = self.rows.setdefault(kind, [0, 0, 0, 0])
        for i, v in enumerate((expected, produced, missing, wrong)):
            r[i] += v


def check_folder(folder, tmp):
    name = os.path.basename(folder)
    key = json.load(open(os.path.join(folder, "expected_joins.json")))
    work = os.path.join(tmp, name)
    os.makedirs(work)
    cfg = nightjar_config(work)
    eves = []
    for p in key["pcaps"]:
        out = os.path.join(work, "eve-" + str(len(eves)))
        os.makedirs(out)
        nj.run(os.path.join(folder, p["pcap"]), ["-c", cfg], outdir=out)
        if os.path.exists(os.path.join(out, "filestore")):
            raise SystemExit(f"FAIL: {name}: a filestore was written")
        eves.append(os.path.join(out, "eve.json.zst"))
    hosts = []
    for z in glob.glob(os.path.join(folder, "*.zip")):
        with zipfile.ZipFile(z) as zf:
            for m in zf.namelist():
                if m.endswith(".json") and "/" not in m and ".." not in m:
                    zf.extract(m, work)
                    hosts.append(os.path.join(work, m))
    for j in sorted(glob.glob(os.path.join(folder, "*.json"))):
        if not j.endswith("expected_joins.json"):
            hosts.append(j)  # Sysmon and the extras (auditd, Security, VMConnection): auto skips those
    out = os.path.join(work, "fusion.json.zst")
    cmd = [fuse_binary(), "--once", "-o", out, "-c", os.path.join(nj.REPO, "config", "fuse.yaml")]
    for e in eves:
        cmd += ["-e", e]
    for h in hosts:
        cmd += ["-i", shape(h) + ":" + h]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode != 0:
        print(p.stderr)
        raise SystemExit(f"FAIL: {name}: nightjar-fuse exited {p.returncode}")
    counters = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    fus = nj.events(work, "fusion.json.zst")
    eve_events = []
    for i in range(len(eves)):
        eve_events += nj.events(os.path.join(work, "eve-" + str(i)))
    wire_sha = {e["fileinfo"].get("sha256") for e in eve_events if e.get("event_type") == "fileinfo"}
    t = Tally()
    used = set()

    # EID 3 -> flow
    flow_joins = [e for e in fus if e["endpoint"]["event_id"] == 3 and e["network"]["event_type"] == "flow"]
    for j in key["network_joins"]:
        flows = j["flow"] if isinstance(j["flow"], list) else [j["flow"]]
        cid = flows[0]["community_id"]
        for rec in j["sysmon_eid3"]:
            hits = [e for e in flow_joins if rec_match(e, rec)]
            good = [e for e in hits if e.get("community_id") == cid]
            bad = [e for e in hits if e.get("community_id") != cid]
            ok = False
            for e in good:
                pr = e["process"]
                pid_ok = "ProcessId" not in rec or str(pr.get("pid")) == str(rec["ProcessId"])
                img = rec["Image"]
                img_ok = img.startswith("&lt;") or img.startswith("<") or base(pr.get("image")) == base(img)
                guid_ok = pr.get("guid", "").lower() == rec["ProcessGuid"].lower()
                if pid_ok and img_ok and guid_ok:
                    ok = True
                else:
                    t.problems.append(f"{name}: record {rec.get('RecordNumber', rec['UtcTime'])}: process {pr}")
            t.add("eid3->flow", 1, len(good), 0 if ok else 1, len(bad))
            used.update(id(e) for e in hits)
            if not ok:
                t.problems.append(f"{name}: missing EID 3 join {rec['host']} {rec.get('RecordNumber', rec['UtcTime'])} -> {cid}")
            for e in bad:
                t.problems.append(f"{name}: EID 3 {rec.get('RecordNumber')} joined to the wrong flow {e.get('community_id')}")
            if len(good) > 1:
                t.add("eid3->flow", 0, 0, 0, len(good) - 1)
                t.problems.append(f"{name}: EID 3 {rec.get('RecordNumber')} joined {len(good)} times")
    for rec in key["sysmon_eid3_without_flow_in_pcap"]:
        hits = [e for e in fus if rec_match(e, rec)]
        if hits:
            t.add("eid3->flow", 0, 0, 0, len(hits))
            t.problems.append(f"{name}: EID 3 with no flow was joined: {rec}")
    no_eid3 = {f["community_id"] for f in key["pcap_flows_without_sysmon_eid3"]}
    for e in fus:
        if e.get("community_id") in no_eid3 and e["join"]["method"] != "sha256":
            t.add("must-not", 0, 0, 0, 1)
            t.problems.append(f"{name}: flow without EID 3 got a process: {e['community_id']} {e['join']}")

    # HTTP bodies on joined flows -> the flow's process
    for j in key["network_joins"]:
        flows = j["flow"] if isinstance(j["flow"], list) else [j["flow"]]
        cid = flows[0]["community_id"]
        pids = {str(r.get("ProcessId")) for r in j["sysmon_eid3"]}
        seen = set()
        for tx in j.get("http_transactions", []):
            for b in ("request_body", "response_body"):
                sha = (tx.get(b) or {}).get("sha256")
                if not sha or sha in seen:
                    continue
                seen.add(sha)
                if sha not in wire_sha:
                    t.add("http-file->process (not in EVE)", 1, 0, 0, 0)
                    continue
                hits = [e for e in fus if e["network"]["event_type"] == "fileinfo"
                        and e["network"]["fileinfo"].get("sha256") == sha and e.get("community_id") == cid]
                ok = any(str(e["process"].get("pid")) in pids or "None" in pids for e in hits)
                t.add("http-file->process", 1, len(hits), 0 if ok else 1, 0)
                if not ok:
                    t.problems.append(f"{name}: body {sha[:12]} on {cid} not tied to pid {pids}")

    # files: SHA-256 joins and SMB file -> EID 11
    for sj in key["smb_file_joins"]:
        for fw in sj["file_on_wire"]:
            for rec in fw.get("sysmon_records_with_same_sha256", []):
                hits = [e for e in fus if e["join"]["method"] == "sha256" and rec_match(e, rec)
                        and e["network"].get("fileinfo", {}).get("sha256") == fw["sha256"]]
                if fw["sha256"] not in wire_sha:
                    t.add("sha256 (file not in EVE)", 1, 0, 0, 0)
                    continue
                t.add("sha256", 1, len(hits), 0 if len(hits) == 1 else 1 if not hits else 0,
                      max(0, len(hits) - 1))
                if len(hits) != 1:
                    t.problems.append(f"{name}: sha256 join to record {rec.get('RecordNumber')}: {len(hits)} events")
        for rec in sj["sysmon_on_server_host"]:
            hits = [e for e in fus if e["join"]["method"] == "file_name" and rec_match(e, rec)]
            t.add("smb-file->eid11", 1, len(hits), 0 if len(hits) == 1 else 1 if not hits else 0,
                  max(0, len(hits) - 1))
            if len(hits) != 1:
                t.problems.append(f"{name}: SMB file -> EID 11 {rec.get('RecordNumber')}: {len(hits)} events")
    for e in fus:
        if e["join"]["method"] == "sha256":
            known = any(rec_match(e, r) for sj in key["smb_file_joins"] for fw in sj["file_on_wire"]
                        for r in fw.get("sysmon_records_with_same_sha256", []))
            if not known:
                t.add("sha256", 0, 0, 0, 1)
                t.problems.append(f"{name}: unexpected sha256 join {e['endpoint']}")
        if e["join"]["method"] == "file_name":
            known = any(rec_match(e, r) for sj in key["smb_file_joins"] for r in sj["sysmon_on_server_host"])
            if not known:
                t.add("smb-file->eid11", 0, 0, 0, 1)
                t.problems.append(f"{name}: unexpected file_name join {e['endpoint']}")

    # DNS: EID 22 <-> wire query
    dns_fus = [e for e in fus if e["join"]["method"] == "dns_query"]
    for dj in key["dns_joins"]:
        rec = dj["sysmon_eid22"]
        hits = [e for e in dns_fus if rec_match(e, rec)]
        if dj["dns_queries_in_pcap"]:
            q = dj["dns_queries_in_pcap"][0]
            good = [e for e in hits if e.get("community_id") == q["community_id"]]
            t.add("dns", 1, len(good), 0 if good else 1, len(hits) - len(good))
            if not good:
                t.problems.append(f"{name}: missing DNS join {rec.get('RecordNumber')} -> {q['rrname_on_wire']}")
        elif hits:
            t.add("dns", 0, 0, 0, len(hits))
            t.problems.append(f"{name}: EID 22 {rec.get('RecordNumber', rec['UtcTime'])} ({rec['QueryName']}) never reached the wire but was joined")
    for e in dns_fus:
        if not any(rec_match(e, dj["sysmon_eid22"]) for dj in key["dns_joins"]):
            t.add("dns", 0, 0, 0, 1)
            t.problems.append(f"{name}: unexpected DNS join {e['endpoint']}")
    return t, counters, len(fus)


def main():
    root = nj.need_corpus("fusion")
    if not os.path.exists(fuse_binary()):
        raise SystemExit(f"FAIL: {fuse_binary()} is not built")
    tmp = tempfile.mkdtemp(prefix="nj-fusion-")
    failed = False
    try:
        for folder in sorted(glob.glob(os.path.join(root, "*", ""))):
            folder = folder.rstrip("/")
            if not os.path.exists(os.path.join(folder, "expected_joins.json")):
                continue
            t, counters, n = check_folder(folder, tmp)
            print(f"== {os.path.basename(folder)}: {n} fusion events")
            print(f"   {'join':36} expected produced missing wrong")
            for k, (ex, pr, mi, wr) in sorted(t.rows.items()):
                print(f"   {k:36} {ex:8} {pr:8} {mi:7} {wr:5}")
                if mi or wr:
                    if "not in EVE" not in k:
                        failed = True
            for p in t.problems:
                print("   !", p)
            print("   " + counters)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        raise SystemExit("FAIL: missing or wrong joins (above)")
    print("PASS")


if __name__ == "__main__":
    main()
