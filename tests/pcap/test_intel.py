#!/usr/bin/python3
"""Threat intel through the real binary.

pcapgen writes a capture of HTTP, TLS and DNS flows and a truth file of what
each flow carries. The test picks, from that truth, a server address, a
domain queried over DNS, an HTTP host, a TLS SNI and a URL, plus an address
found in a DNS answer and the SHA-256 of a file downloaded over HTTP (second
capture), writes them as a MISP feed (manifest.json + event file, with a
to_ids=false attribute that must be ignored), and runs nightjar with
intel.sources pointing at it. Every (flow, indicator) pair the truth implies
must alert exactly once, nothing else may alert, and each alert must carry
the MISP event's context.
"""
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

SID_BASE = 9200000
KINDS = ["ip", "domain", "hostname", "url", "md5", "sha1", "sha256", "ja3", "ja4",
         "cert-sha1", "cert-sha256"]
EVENT_UUID = "5e1b2c3d-0000-4000-8000-00000000abcd"

CONFIG = """%YAML 1.1
---
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types:
        - alert
        - dns
        - http
        - tls:
            custom: [sni, fingerprint, ja3, ja4]
        - files:
            force-hash: [sha256]
        - flow
intel:
  enabled: yes
  sid-base: {sid}
  sources:
    - path: {feed}
      format: misp-json
      name: test-feed
"""

c = nj.Checks()


def truth(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ip(a):
    return str(ipaddress.ip_address(a))


def tup(r):
    return (ip(r["src_ip"]), r.get("src_port", 0), ip(r["dest_ip"]), r.get("dest_port", 0))


def under(name, dom):
    name = name.lower().rstrip(".")
    return name == dom or name.endswith("." + dom)


def parent(name):
    labels = name.split(".")
    return ".".join(labels[1:]) if len(labels) > 2 else name


def main():
    work = tempfile.mkdtemp(prefix="nj-intel-")
    pcap, tfile = os.path.join(work, "mix.pcap"), os.path.join(work, "mix.jsonl")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--seed", "11", "--flows", "60",
                    "--mix", "http=40,tls=30,dns=30", "--truth", tfile],
                   check=True, stderr=subprocess.DEVNULL)
    fpcap, ftruth = os.path.join(work, "file.pcap"), os.path.join(work, "file.jsonl")
    p = subprocess.run([nj.pcapgen(), "-o", fpcap, "--scenario", "http-file",
                        "--http-file-size", "20000", "--truth", ftruth],
                       check=True, stderr=subprocess.PIPE, text=True)
    m = re.search(r"sha256 ([0-9a-f]{64})", p.stderr)
    c.check(m is not None, "pcapgen printed the file's sha256")
    file_sha = m.group(1) if m else "0" * 64

    recs = truth(tfile)
    http = [r for r in recs if r.get("app") == "http" and r.get("hostname")]
    dns = [r for r in recs if r.get("app") == "dns" and r.get("rrname")]
    tls = [r for r in recs if r.get("app") == "tls" and r.get("sni")]
    if not (http and dns and tls):
        print("FAIL: pcapgen made no HTTP, DNS or TLS exchange")
        sys.exit(1)

    # a first run without intel: the DNS answers (for an address indicator found only there)
    cfg0 = os.path.join(work, "plain.yaml")
    with open(cfg0, "w") as f:
        f.write(CONFIG.split("intel:")[0])
    out0, _ = nj.run(pcap, ["-c", cfg0], outdir=os.path.join(work, "out0"))
    answers = []  # (flow tuple, rrname, rrtype, rdata)
    tlsfp = {}  # flow tuple -> (ja3, ja4, certificate fingerprint)
    for e in nj.events(out0, "eve.json"):
        if e.get("event_type") == "tls":
            tl = e["tls"]
            tlsfp[tup(e)] = (tl.get("ja3", {}).get("hash"), tl.get("ja4"), tl.get("fingerprint"))
        if e.get("event_type") != "dns" or e["dns"].get("type") != "response":
            continue
        t = tup(e)
        t = (t[2], t[3], t[0], t[1]) if e.get("dest_port") != 53 and e.get("src_port") == 53 else t
        for a in e["dns"].get("answers", []):
            answers.append((t, a.get("rrname", ""), a.get("rrtype"), a.get("rdata", "")))

    flow_addrs = {r["src_ip"] for r in recs} | {r["dest_ip"] for r in recs}
    ans_ip = next((a[3] for a in answers if a[2] == "A" and a[3] not in flow_addrs), None)
    c.check(ans_ip is not None, "some DNS answer carries an address")

    ip_ind = http[0]["dest_ip"]
    dns_dom = parent(dns[0]["rrname"])
    host_ind = next((r["hostname"] for r in http if not under(r["hostname"], dns_dom)),
                    http[-1]["hostname"])
    sni_dom = parent(next((r["sni"] for r in tls if not under(r["sni"], dns_dom)
                           and not under(r["sni"], host_ind)), tls[0]["sni"]))
    url_rec = http[-1]
    url_ind = "http://%s%s" % (url_rec["hostname"], url_rec["url"].split("?")[0])
    inds = {("ip-dst", ip_ind), ("domain", dns_dom), ("hostname", host_ind),
            ("domain", sni_dom), ("url", url_ind), ("sha256", file_sha)}
    if ans_ip:
        inds.add(("ip-dst", ans_ip))
    # TLS fingerprints of one flow (pcapgen's clients may share them: every flow with it alerts)
    fp = next((v for v in tlsfp.values() if all(v)), None)
    c.check(fp is not None, "a TLS flow with JA3, JA4 and a certificate fingerprint")
    if fp:
        inds |= {("ja3-fingerprint-md5", fp[0]), ("ja4", fp[1]), ("x509-fingerprint-sha1", fp[2])}

    feed = os.path.join(work, "feed")
    os.mkdir(feed)
    with open(os.path.join(feed, "manifest.json"), "w") as f:
        json.dump({EVENT_UUID: {"info": "nightjar intel test", "threat_level_id": "1"}}, f)
    attrs = [{"type": t, "value": v, "to_ids": True, "category": "Network activity"}
             for t, v in sorted(inds) if t != "sha256"]
    # not to be used for detection: to_ids false (an address every flow has)
    attrs.append({"type": "ip-src", "value": recs[0]["src_ip"], "to_ids": False})
    event = {"Event": {"id": "4242", "uuid": EVENT_UUID, "info": "nightjar intel test",
                       "threat_level_id": "1",
                       "Tag": [{"name": "tlp:white"}, {"name": "test:intel"}],
                       "Attribute": attrs,
                       "Object": [{"name": "file", "Attribute": [
                           {"type": "sha256", "value": file_sha, "to_ids": True}]}]}}
    with open(os.path.join(feed, EVENT_UUID + ".json"), "w") as f:
        json.dump(event, f)
    cfg = os.path.join(work, "intel.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(sid=SID_BASE, feed=feed))

    # what must alert: (flow tuple, indicator value)
    want = set()
    url_key = (url_rec["hostname"].lower(), url_ind.split(url_rec["hostname"], 1)[1])
    for r in recs:
        t = tup(r)
        for addr in (r["src_ip"], r["dest_ip"]):
            if addr == ip_ind:
                want.add((t, ip_ind))
            if addr == ans_ip:
                want.add((t, ans_ip))
        names = [r.get("rrname"), r.get("hostname"), r.get("sni")]
        for n in filter(None, names):
            for d in (dns_dom, sni_dom):
                if under(n, d):
                    want.add((t, d))
        if r.get("hostname") and r["hostname"].lower() == host_ind.lower():
            want.add((t, host_ind))
        if r.get("hostname") and (r["hostname"].lower(), r["url"].split("?")[0]) == url_key:
            want.add((t, url_ind))
    for t, rrname, rrtype, rdata in answers:
        for d in (dns_dom, sni_dom):
            if under(rrname, d) or (rrtype == "CNAME" and under(rdata, d)):
                want.add((t, d))
        if rrtype in ("CNAME",) and rdata.lower() == host_ind.lower():
            want.add((t, host_ind))
        if rdata in (ip_ind, ans_ip):
            want.add((t, rdata))

    for t, v in tlsfp.items():
        for k, ind in enumerate(fp or ()):
            if v[k] == ind:
                want.add((t, ind))

    out, proc = nj.run(pcap, ["-c", cfg], outdir=os.path.join(work, "out"))
    c.check("intel: loaded %d indicators" % len(inds) in proc.stdout,
            "start-up summary counts %d indicators: %s" % (len(inds), proc.stdout.splitlines()[:1]))
    alerts = [e for e in nj.events(out, "eve.json") if e.get("event_type") == "alert"]
    got = {}
    for a in alerts:
        t = tup(a)
        key = (t, a["intel"]["indicator"])
        got[key] = got.get(key, 0) + 1
        check_context(a)
    missing = want - set(got)
    extra = set(got) - want
    dup = {k: n for k, n in got.items() if n > 1}
    c.check(not missing, "every expected (flow, indicator) alerted; missing %s" % sorted(missing))
    c.check(not extra, "no alert beyond the indicators; extra %s" % sorted(extra))
    c.check(not dup, "one alert per (flow, indicator): %s" % dup)
    fields = {a["intel"]["field"] for a in alerts}
    for fld in ("dest_ip", "dns.query", "http.host", "tls.sni", "http.url", "dns.answer.rdata",
                "ja3.hash", "ja4.hash", "tls.cert_fingerprint"):
        c.check(fld in fields, "an alert from field %s (fields seen: %s)" % (fld, sorted(fields)))
    c.check(not any(a["intel"]["indicator"] == recs[0]["src_ip"] for a in alerts),
            "the to_ids=false attribute raised nothing")
    evs = nj.events(out, "eve.json")
    alerted = {tup(e) for e in evs if e.get("event_type") == "flow" and e["flow"].get("alerted")}
    c.check({t for t, _ in want} <= alerted, "flow events of alerted flows say alerted")
    c.check(alerted <= {t for t, _ in want}, "no other flow says alerted")

    check_iprep(work, pcap, ip_ind, recs[0]["src_ip"])

    # the file: its SHA-256 at close
    fout, _ = nj.run(fpcap, ["-c", cfg], outdir=os.path.join(work, "fout"))
    falerts = [e for e in nj.events(fout, "eve.json") if e.get("event_type") == "alert"]
    sha_alerts = [a for a in falerts if a["intel"]["type"] == "sha256"]
    c.check(len(sha_alerts) == 1, "one sha256 alert for the file (got %d)" % len(sha_alerts))
    if sha_alerts:
        a = sha_alerts[0]
        c.check(a["intel"]["indicator"] == file_sha and a["intel"]["field"] == "fileinfo.sha256",
                "sha256 alert names the file hash")
        c.check(a["alert"]["signature_id"] == SID_BASE + KINDS.index("sha256"), "sha256 sid")
        check_context(a)
    fwant = set()
    for r in truth(ftruth):
        for d in (dns_dom, sni_dom):
            if r.get("hostname") and under(r["hostname"], d):
                fwant.add(d)
        if ip_ind in (r["src_ip"], r["dest_ip"]):
            fwant.add(ip_ind)
    c.check({a["intel"]["indicator"] for a in falerts} - fwant == {file_sha},
            "file capture: only the file hash (and what its truth implies) alerted")
    c.done()


def check_iprep(work, pcap, bad, client):
    """iprep: per-packet rules on reputation files; counts from the flow records."""
    net = ipaddress.ip_network(bad + "/24", strict=False)
    with open(os.path.join(work, "cats.txt"), "w") as f:
        f.write("1,Bad,known bad\n2,Spam,spam sources\n")
    with open(os.path.join(work, "rep.list"), "w") as f:
        f.write("%s,1,50\n%s,2,5\nnot an address,1,1\n%s,9,1\n" % (net, client, client))
    with open(os.path.join(work, "rep.rules"), "w") as f:
        f.write("alert ip any any -> any any (msg:\"bad dst\"; iprep:dst,Bad,>,10; sid:1;)\n"
                "alert ip any any -> any any (msg:\"spam src\"; iprep:src,Spam,<,10; sid:2;)\n"
                "alert ip any any -> any any (msg:\"bad any\"; iprep:any,Bad,=,50; sid:3;)\n"
                "alert ip any any -> any any (msg:\"never\"; iprep:both,Bad,>,10; sid:4;)\n")
    out, _ = nj.run(pcap, ["-S", os.path.join(work, "rep.rules"), "-k", "none",
                           "--set", "reputation-categories-file=" + os.path.join(work, "cats.txt"),
                           "--set", "default-reputation-path=" + work,
                           "--set", "reputation-files.0=rep.list",
                           "--set", "outputs.0.eve-log.filename=eve.json"],
                    outdir=os.path.join(work, "out-iprep"))
    evs = nj.events(out, "eve.json")
    want = {1: 0, 2: 0, 3: 0, 4: 0}
    for e in evs:
        if e.get("event_type") != "flow":
            continue
        src, dst = ipaddress.ip_address(e["src_ip"]), ipaddress.ip_address(e["dest_ip"])
        ts, tc = e["flow"]["pkts_toserver"], e["flow"]["pkts_toclient"]
        want[1] += (ts if dst in net else 0) + (tc if src in net else 0)
        want[2] += (ts if str(src) == ip(client) else 0) + (tc if str(dst) == ip(client) else 0)
        want[3] += ts + tc if (src in net or dst in net) else 0
    got = {1: 0, 2: 0, 3: 0, 4: 0}
    for e in evs:
        if e.get("event_type") == "alert":
            got[e["alert"]["signature_id"]] += 1
    c.check(want[1] > 0 and want[2] > 0, "iprep: the capture has traffic to check (%s)" % want)
    c.check(got == want, "iprep alerts per sid %s, want %s" % (got, want))


def check_context(a):
    i = a["intel"]
    c.check(i.get("event_id") == "4242" and i.get("event_uuid") == EVENT_UUID,
            "alert carries the MISP event id/uuid: %s" % i)
    c.check(i.get("source") == "test-feed" and i.get("event_info") == "nightjar intel test",
            "alert carries source and event info")
    c.check(i.get("tags") == ["tlp:white", "test:intel"] and i.get("threat_level") == "high",
            "alert carries tags and threat level: %s" % i.get("tags"))
    c.check(a["alert"]["signature_id"] == SID_BASE + KINDS.index(i["type"]),
            "signature_id is sid-base + kind")
    c.check(a["alert"]["metadata"].get("intel_event_id") == ["4242"] and a["alert"]["severity"] == 1,
            "alert.metadata and severity from the event")


if __name__ == "__main__":
    main()
