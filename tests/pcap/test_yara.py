#!/usr/bin/python3
"""YARA on carved files through the real binary, with the corpus rule set.

For every sample of ../shared/corpus/yara/samples, pcapgen makes one capture
that carries it over HTTP (a download) and one over SMB2 (written, then read
back). Nightjar runs with yara.rules = the corpus index.yar (unchanged), and
every fileinfo event must list exactly the rules of expected_matches.tsv,
with the tsv's size and hashes; every match must also be an alert of the
same flow and transaction ("YARA <rule>", a signature_id in the configured
space, the same id for the same rule everywhere, flow context). Then: all
samples in one capture with reordered and duplicated packets, the stats
counters, the size limit (skip and head), the scan timeout, and `nightjar -T`
reporting a compile error as FILE:LINE (through an include) and failing.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

SID_BASE = 7000000
GID = 3

CONFIG = """%YAML 1.1
---
community-id: yes
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types:
        - alert
        - files:
            force-hash: [md5, sha1, sha256]
        - stats
yara:
  enabled: yes
  rules: [{rules}]
  gid: {gid}
  sid-base: {sid}
{extra}
"""

c = nj.Checks()
sid_of = {}  # rule -> signature_id seen


def config(tmp, rules, extra=""):
    path = os.path.join(tmp, "nightjar-%d.yaml" % len(os.listdir(tmp)))
    with open(path, "w") as f:
        f.write(CONFIG.format(rules=rules, gid=GID, sid=SID_BASE, extra=extra))
    return path


def gen(tmp, name, args):
    out = os.path.join(tmp, name + ".pcap")
    p = subprocess.run([nj.pcapgen(), "-o", out, "--seed", "7"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: pcapgen {' '.join(args)}: {p.stderr}")
    return out


def load_tsv(path):
    rows = {}
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            if not line.strip():
                continue
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            r["rules"] = sorted(x for x in r["expected_rules"].split(",") if x and x != "-")
            rows[r["file"]] = r
    return rows


def stats_of(evs):
    st = [e for e in evs if e.get("event_type") == "stats"]
    return st[-1]["stats"].get("yara", {}) if st else {}


def check_file_events(evs, sample, row, proto, want_n):
    """fileinfo and alerts of one sample in one run."""
    fis = [e for e in evs if e.get("event_type") == "fileinfo" and e.get("app_proto") == proto
           and e["fileinfo"]["filename"].replace("\\", "/").split("/")[-1] == sample]
    alerts = [e for e in evs if e.get("event_type") == "alert"]
    c.check(len(fis) == want_n, f"{proto} {sample}: {len(fis)} fileinfo events, want {want_n}")
    for fi in fis:
        f = fi["fileinfo"]
        what = f"{proto} {sample} tx {f.get('tx_id')}"
        c.check(f.get("state") == "CLOSED", f"{what}: state {f.get('state')}")
        c.check(f.get("size") == int(row["size"]), f"{what}: size {f.get('size')} != {row['size']}")
        for h in ("md5", "sha1", "sha256"):
            c.check(f.get(h) == row[h], f"{what}: {h} {f.get(h)} != {row[h]}")
        c.check("yara" in f, f"{what}: no yara list (not scanned)")
        c.check("yara_status" not in f, f"{what}: yara_status {f.get('yara_status')}")
        got = sorted(m["rule"] for m in f.get("yara", []))
        c.check(got == row["rules"], f"{what}: yara {got} != expected {row['rules']}")
        for m in f.get("yara", []):
            c.check(m.get("namespace") == "default" and isinstance(m.get("tags"), list)
                    and isinstance(m.get("meta"), dict) and m["meta"],
                    f"{what}: match entry shape {m}")
        mine = [a for a in alerts if a.get("flow_id") == fi.get("flow_id")
                and a.get("tx_id") == f.get("tx_id")]
        sigs = sorted(a["alert"]["signature"] for a in mine)
        c.check(sigs == sorted("YARA " + r for r in row["rules"]),
                f"{what}: alerts {sigs} != rules {row['rules']}")
        for a in mine:
            al = a["alert"]
            rule = al["signature"][5:]
            c.check(al["gid"] == GID, f"{what}: gid {al['gid']}")
            c.check(SID_BASE <= al["signature_id"] < SID_BASE + 10000,
                    f"{what}: signature_id {al['signature_id']} outside the space")
            c.check(sid_of.setdefault(rule, al["signature_id"]) == al["signature_id"],
                    f"{what}: {rule} has sid {al['signature_id']} and {sid_of[rule]}")
            c.check(a.get("app_proto") == proto and "flow" in a and "community_id" in a
                    and a.get("src_ip") == fi.get("src_ip")
                    and a.get("dest_port") == fi.get("dest_port"),
                    f"{what}: alert flow context {json.dumps(a)[:300]}")
            c.check(a.get("fileinfo", {}).get("sha256") == row["sha256"],
                    f"{what}: alert fileinfo {a.get('fileinfo')}")
            c.check(proto in a, f"{what}: alert has no {proto} object")
    return fis


def main():
    ydir = nj.need_corpus("yara")
    index = os.path.join(ydir, "index.yar")
    sdir = os.path.join(ydir, "samples")
    rows = load_tsv(os.path.join(sdir, "expected_matches.tsv"))
    c.check(len(rows) >= 9, f"{len(rows)} samples in the tsv")
    tmp = tempfile.mkdtemp(prefix="nj-yara-")
    cfg = config(tmp, index)

    # one capture per sample and protocol
    total_fi = total_matches = 0
    for sample, row in sorted(rows.items()):
        for proto, opt, n in (("http", "--http-file", 1), ("smb", "--smb-file", 2)):
            pcap = gen(tmp, f"{proto}-{sample}", [opt, os.path.join(sdir, sample)])
            out, _ = nj.run(pcap, ["-c", cfg], outdir=os.path.join(tmp, f"out-{proto}-{sample}"))
            evs = nj.events(out, "eve.json")
            fis = check_file_events(evs, sample, row, proto, n)
            st = stats_of(evs)
            c.check(st.get("scanned") == len(fis), f"{proto} {sample}: yara.scanned {st}")
            c.check(st.get("matches") == len(fis) * len(row["rules"]),
                    f"{proto} {sample}: yara.matches {st}")
            total_fi += len(fis)
            total_matches += len(fis) * len(row["rules"])

    # all samples in one capture, packets reordered and duplicated
    args = []
    for sample in sorted(rows):
        args += ["--http-file", os.path.join(sdir, sample), "--smb-file", os.path.join(sdir, sample)]
    pcap = gen(tmp, "all", args + ["--reorder", "10", "--duplicate", "5"])
    out, _ = nj.run(pcap, ["-c", cfg], outdir=os.path.join(tmp, "out-all"))
    evs = nj.events(out, "eve.json")
    for sample, row in sorted(rows.items()):
        check_file_events(evs, sample, row, "http", 1)
        check_file_events(evs, sample, row, "smb", 2)
    st = stats_of(evs)
    c.check(st.get("scanned") == 3 * len(rows) and st.get("timeouts") == 0 and st.get("errors") == 0,
            f"all: stats {st}")
    c.check(st.get("alerts") == sum(3 * len(r["rules"]) for r in rows.values()), f"all: alerts {st}")

    # the size limit: skipped (counted, "too_large"), or the head scanned ("partial")
    eicar = os.path.join(sdir, "eicar.com")
    pcap = gen(tmp, "limit", ["--http-file", eicar])
    out, _ = nj.run(pcap, ["-c", config(tmp, index, "  max-file-size: 60")],
                    outdir=os.path.join(tmp, "out-skip"))
    evs = nj.events(out, "eve.json")
    fi = [e["fileinfo"] for e in evs if e.get("event_type") == "fileinfo"]
    c.check(len(fi) == 1 and fi[0].get("yara_status") == "too_large" and "yara" not in fi[0],
            f"skip: fileinfo {fi}")
    st = stats_of(evs)
    c.check(st.get("too_large") == 1 and st.get("scanned") == 0, f"skip: stats {st}")
    c.check(not [e for e in evs if e.get("event_type") == "alert"], "skip: an alert")
    out, _ = nj.run(pcap, ["-c", config(tmp, index, "  max-file-size: 60\n  oversize: head")],
                    outdir=os.path.join(tmp, "out-head"))
    evs = nj.events(out, "eve.json")
    fi = [e["fileinfo"] for e in evs if e.get("event_type") == "fileinfo"]
    c.check(len(fi) == 1 and fi[0].get("yara_status") == "partial" and fi[0].get("yara") == [],
            f"head: fileinfo {fi}")
    st = stats_of(evs)
    c.check(st.get("too_large") == 1 and st.get("scanned") == 1 and st.get("bytes") == 60,
            f"head: stats {st}")

    # the scan timeout: a rule whose condition loops over filesize^2 bytes
    slow = os.path.join(tmp, "slow.yar")
    with open(slow, "w") as f:
        f.write("rule Slow_Quadratic {\n  condition:\n"
                "    for all i in (0..filesize - 1) : (\n"
                "      for all k in (0..filesize - 1) : (uint8(i) + uint8(k) < 1000))\n}\n")
    big = os.path.join(tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20))
    pcap = gen(tmp, "slow", ["--http-file", big])
    out, _ = nj.run(pcap, ["-c", config(tmp, slow, "  scan-timeout: 1")],
                    outdir=os.path.join(tmp, "out-slow"))
    evs = nj.events(out, "eve.json")
    fi = [e["fileinfo"] for e in evs if e.get("event_type") == "fileinfo"]
    c.check(len(fi) == 1 and fi[0].get("yara_status") == "timeout", f"timeout: fileinfo {fi}")
    st = stats_of(evs)
    c.check(st.get("timeouts") == 1, f"timeout: stats {st}")

    # suricata-verify's http-evader captures (every 8th): each carries eicar.txt with an
    # evasion; every copy carved whole (the EICAR sha256) must match SUSP_Just_EICAR
    evader = os.path.join(nj.CORPUS, "suricata-verify", "tests", "http-evader")
    if os.path.isdir(evader):
        eicar_sha = rows["eicar.com"]["sha256"]
        carved = matched = 0
        for name in sorted(os.listdir(evader))[::8]:
            pcap = os.path.join(evader, name, "input.pcap")
            if not os.path.exists(pcap):
                continue
            out, _ = nj.run(pcap, ["-c", cfg, "-k", "none"], outdir=os.path.join(tmp, "ev-" + name))
            for e in nj.events(out, "eve.json"):
                f = e.get("fileinfo") if e.get("event_type") == "fileinfo" else None
                if not f or f.get("sha256") != eicar_sha:
                    continue
                carved += 1
                rules = [m["rule"] for m in f.get("yara", [])]
                matched += rules == ["SUSP_Just_EICAR"]
                c.check(rules == ["SUSP_Just_EICAR"], f"{name}: EICAR carved, yara {rules}")
        print(f"http-evader: {carved} EICAR copies carved, {matched} matched")
        c.check(carved > 10, f"http-evader: only {carved} EICAR copies carved")
    else:
        print("http-evader captures absent: that part skipped")

    # -T compiles the rules: an error in an included file is named FILE:LINE and fails
    bad_dir = os.path.join(tmp, "bad")
    os.makedirs(os.path.join(bad_dir, "sub"))
    with open(os.path.join(bad_dir, "index.yar"), "w") as f:
        f.write('include "sub/broken.yar"\n')
    with open(os.path.join(bad_dir, "sub", "broken.yar"), "w") as f:
        f.write("rule Fine { condition: true }\n\nrule Broken {\n  condition:\n    undefined_thing\n}\n")
    p = subprocess.run([nj.binary(), "-T", "-c", config(tmp, os.path.join(bad_dir, "index.yar"))],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c.check(p.returncode != 0, f"-T with a broken rule exited {p.returncode}")
    c.check("sub/broken.yar:5: error:" in p.stderr and "undefined_thing" in p.stderr,
            f"-T error not FILE:LINE: {p.stderr!r}")
    p = subprocess.run([nj.binary(), "-T", "-c", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    c.check(p.returncode == 0 and "rules compiled" in p.stdout, f"-T corpus: {p.returncode} {p.stdout} {p.stderr}")
    print(f"{total_fi} fileinfo events, {total_matches} matches in per-sample captures")
    c.done()


main()
