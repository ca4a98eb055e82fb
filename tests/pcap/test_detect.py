#!/usr/bin/python3
"""Detection through the real binary.

1. pcapgen's default capture with rules/example.rules: every example rule
   alerts (the TLS one when the build parses TLS), the alert events carry
   Suricata's fields, the SMB rule alerts once per flow (flowbits), the ICMP
   rule once per source (threshold), and the flows that alerted say so.
2. The same capture with the whole ET Open set (when the corpus is present):
   it loads, runs, and raises ET's curl user-agent policy alert.
3. A few suricata-verify captures with their rules, asserting the alert
   counts per sid that Suricata gives (flowbits ordering, thresholds,
   detection_filter, byte_test, IP-only rules).
"""
import collections
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

c = nj.Checks()


def alerts(evs):
    return [e for e in evs if e["event_type"] == "alert"]


def per_sid(evs):
    return collections.Counter(e["alert"]["signature_id"] for e in alerts(evs))


def example():
    work = tempfile.mkdtemp(prefix="nj-detect-")
    pcap = os.path.join(work, "default.pcap")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "default"], check=True,
                   stderr=subprocess.DEVNULL)
    rules = os.path.join(nj.REPO, "rules", "example.rules")
    outdir, p = nj.run(pcap, ["-S", rules], outdir=os.path.join(work, "out"))
    c.check("6 loaded, 0 failed" in p.stdout, f"example rules load: {p.stdout.strip()}")
    evs = nj.events(outdir)
    n = per_sid(evs)
    have_tls = any(e["event_type"] == "tls" for e in evs)
    for sid in (9000001, 9000002, 9000003, 9000005, 9000006) + ((9000004,) if have_tls else ()):
        c.check(n[sid] >= 1, f"example rule {sid} alerts on the default capture ({dict(n)})")

    # once per flow (flowbits isnotset + set), once per source (threshold limit)
    smb = [e["flow_id"] for e in alerts(evs) if e["alert"]["signature_id"] == 9000006]
    c.check(len(smb) == len(set(smb)), f"SMB rule alerts once per flow: {smb}")
    icmp = [e["src_ip"] for e in alerts(evs) if e["alert"]["signature_id"] == 9000005]
    c.check(len(icmp) == len(set(icmp)), f"ICMP rule alerts once per source: {icmp}")

    flows = {e["flow_id"]: e for e in evs if e["event_type"] == "flow"}
    for a in alerts(evs):
        al = a["alert"]
        c.check(al["action"] == "allowed" and al["gid"] == 1 and al["rev"] >= 1,
                f"alert header fields: {al}")
        c.check(al["signature"].startswith("NIGHTJAR DEMO") and al["severity"] in (1, 2, 3),
                f"signature and severity: {al}")
        c.check(al["category"] != "", f"category from classification.config: {al}")
        c.check(a["direction"] in ("to_server", "to_client"), f"direction: {a}")
        c.check(set(("pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient",
                     "start", "src_ip", "dest_ip")) <= set(a.get("flow", {})),
                f"alert flow object: {a.get('flow')}")
        f = flows.get(a["flow_id"])
        c.check(f is not None and f["flow"].get("alerted") is True,
                f"the flow of alert {al['signature_id']} says alerted: {f and f['flow']}")
        if al["signature_id"] in (9000001, 9000002, 9000003):
            c.check("tx_id" in a and a.get("app_proto") in ("http", "dns"),
                    f"app-layer alert has tx_id and app_proto: {a}")
        if a.get("app_proto") == "http" and "tx_id" in a:
            h = a.get("http", {})
            c.check(h.get("hostname") and h.get("url") and h.get("http_method"),
                    f"an alert on an HTTP transaction carries the http object: {a}")
        if al["signature_id"] == 9000003:
            c.check(al.get("dns") is None and "dns" in a,
                    f"an alert on a DNS transaction carries the dns object: {a}")
            c.check(al.get("metadata", {}).get("confidence") == ["Low"],
                    f"metadata as arrays: {al.get('metadata')}")
    alerted = sum(1 for f in flows.values() if f["flow"].get("alerted"))
    c.check(alerted == len({a["flow_id"] for a in alerts(evs)}),
            f"flows with alerted=true ({alerted}) are the flows that alerted")

    # the whole ET Open set on the same capture
    et = os.path.join(nj.CORPUS, "rules", "et-open")
    if not os.path.isdir(et):
        print("SKIP: ET Open corpus absent")
        return
    allrules = os.path.join(work, "et.rules")
    with open(allrules, "w") as out:
        for name in sorted(os.listdir(et)):
            if name.endswith(".rules"):
                out.write(open(os.path.join(et, name), errors="replace").read())
    outdir, p = nj.run(pcap, ["-S", allrules], outdir=os.path.join(work, "out-et"))
    n = per_sid(nj.events(outdir))
    c.check(n[2013028] >= 1, f"ET POLICY curl User-Agent Outbound alerts: {dict(n)}")


# (test folder, pcap relative to it, extra args, {sid: count})
CORPUS_CASES = [
    ("detect-flowbits", "input.pcap", ["-k", "none"],
     {1: 1, 2: 1, 3: 0, 5: 1, 6: 0, 7: 1, 8: 0, 9: 1, 10: 0, 11: 0, 12: 1}),
    ("threshold/threshold-rule-flow", "icmp.pcap", [], {1: 8, 2: 1, 3: 2, 4: 1}),
    ("threshold/detection_filter-rule-flow", "../threshold-rule-flow/icmp.pcap", [],
     {1: 8, 2: 7, 3: 6, 4: 4, 5: 1, 6: 0}),
    ("detect-bytetest-01", "../byte-extract-01/input.pcap", ["-k", "none"],
     {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}),
    ("alert-testmyids", "../flowbit-oring/input.pcap", [], {2100498: 1}),
]


def corpus():
    base = os.path.join(nj.CORPUS, "suricata-verify", "tests")
    if not os.path.isdir(base):
        print("SKIP: suricata-verify corpus absent")
        return
    for test, pcap, args, want in CORPUS_CASES:
        d = os.path.join(base, test)
        rules = os.path.join(d, "test.rules")
        pcap = os.path.normpath(os.path.join(d, pcap))
        if not os.path.exists(rules) or not os.path.exists(pcap):
            print(f"SKIP: {test} not in the corpus")
            continue
        outdir, _ = nj.run(pcap, ["-S", rules] + args)
        n = per_sid(nj.events(outdir))
        for sid, cnt in want.items():
            c.check(n[sid] == cnt, f"{test}: sid {sid} alerts {n[sid]} times, want {cnt}")



TAG_CONF = """%YAML 1.1
---
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert:
            tagged-packets: {tp}
"""


def tagging():
    """The tag keyword: Suricata's counts of tagged packets (the SYN that alerts
    counts but is not tagged) as EVE packet events, only with tagged-packets."""
    pcap = os.path.join(nj.CORPUS, "suricata-verify", "tests", "ssh-banner-only", "input.pcap")
    if not os.path.exists(pcap):
        print("SKIP: ssh-banner-only capture absent")
        return
    work = tempfile.mkdtemp(prefix="nj-tag-")
    cases = [
        # tag options, tagged-packets, packet events wanted
        ("tag:session;", "yes", 8),          # the rest of the SSH flow
        ("tag:session,3,packets;", "yes", 2),
        ("tag:host,9,packets,dst;", "yes", 8),  # 192.168.0.103 until its 9th packet
        ("tag:host,100,packets,dst;", "yes", 14),
        ("tag:session;", "no", 0),
    ]
    for i, (opts, tp, want) in enumerate(cases):
        rules = os.path.join(work, f"tag{i}.rules")
        conf = os.path.join(work, f"tag{i}.yaml")
        with open(rules, "w") as f:
            f.write(f"alert tcp any any -> any any (flags:S; {opts} sid:1;)\n")
        with open(conf, "w") as f:
            f.write(TAG_CONF.format(tp=tp))
        outdir, _ = nj.run(pcap, ["-c", conf, "-S", rules, "-k", "none"],
                           outdir=os.path.join(work, f"out{i}"))
        evs = nj.events(outdir, "eve.json")
        al = alerts(evs)
        pk = [e for e in evs if e["event_type"] == "packet"]
        c.check(len(al) == 1, f"{opts}: one alert, got {len(al)}")
        c.check(len(pk) == want, f"{opts} tagged-packets {tp}: {len(pk)} packet events, want {want}")
        if al and pk:
            c.check(all(e["pcap_cnt"] > al[0]["pcap_cnt"] for e in pk),
                    f"{opts}: the alerting packet is not tagged")
            c.check(all(e.get("packet") and e["packet_info"]["linktype"] == 1 for e in pk),
                    f"{opts}: packet events carry the packet")
        if opts.startswith("tag:session") and al:
            c.check(all(e.get("flow_id") == al[0]["flow_id"] for e in pk),
                    f"{opts}: tagged packets belong to the alert's flow")


FAST_CONF = """%YAML 1.1
---
outputs:
  - fast:
      enabled: yes
      filename: fast.log
      append: {append}
{eve}"""
FAST_EVE = """  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert
"""


def fast_line(a):
    """The fast.log line Suricata writes for EVE alert a (its packet, its rule)."""
    ts = a["timestamp"]  # 2017-04-07T22:24:37.251547+0000
    t = f"{ts[5:7]}/{ts[8:10]}/{ts[0:4]}-{ts[11:26]}"
    al = a["alert"]
    act = "[wDrop] " if al["signature"].endswith("(drop)") else ""
    if a["proto"] in ("ICMP", "IPv6-ICMP"):
        sp, dp = a["icmp_type"], a["icmp_code"]
    else:
        sp, dp = a.get("src_port", 0), a.get("dest_port", 0)
    return (f"{t}  {act}[**] [{al['gid']}:{al['signature_id']}:{al['rev']}] {al['signature']} [**] "
            f"[Classification: {al.get('category') or '(null)'}] [Priority: {al['severity']}] {{{a['proto']}}} "
            f"{a['src_ip']}:{sp} -> {a['dest_ip']}:{dp}")


def fast_log():
    """The fast output: one line per EVE alert, in Suricata's format, with and
    without an eve-log beside it; append as configured."""
    work = tempfile.mkdtemp(prefix="nj-fast-")
    pcap = os.path.join(work, "default.pcap")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "default"], check=True,
                   stderr=subprocess.DEVNULL)
    rules = os.path.join(work, "fast.rules")
    with open(os.path.join(nj.REPO, "rules", "example.rules")) as f:
        text = f.read()
    with open(rules, "w") as f:
        f.write(text)
        # a drop rule is marked [wDrop] (IDS: it would have dropped)
        f.write('drop udp any any -> any 53 (msg:"NIGHTJAR TEST dns (drop)"; '
                'threshold:type limit, track by_rule, count 2, seconds 3600; sid:9100001; rev:3;)\n')
    conf = os.path.join(work, "fast.yaml")
    with open(conf, "w") as f:
        f.write(FAST_CONF.format(append="yes", eve=FAST_EVE))
    out = os.path.join(work, "out")
    outdir, _ = nj.run(pcap, ["-c", conf, "-S", rules], outdir=out)
    evs = alerts(nj.events(outdir, "eve.json"))
    lines = open(os.path.join(outdir, "fast.log")).read().splitlines()
    want = [fast_line(a) for a in evs]
    c.check(len(evs) >= 6, f"fast: the example capture alerts ({len(evs)})")
    c.check(sorted(lines) == sorted(want),
            "fast.log has one line per alert in Suricata's format:\n  " +
            "\n  ".join(sorted(set(lines) ^ set(want))[:6]))
    c.check(any("{ICMP}" in ln and ":8 -> " in ln for ln in lines),
            "fast: ICMP alerts give type and code as ports")
    ndrop = sum(1 for a in evs if a["alert"]["signature_id"] == 9100001)
    c.check(ndrop > 0 and sum(1 for ln in lines if "[wDrop] [**] [1:9100001:3]" in ln) == ndrop,
            "fast: drop rules are marked [wDrop]")
    # append: yes keeps the previous run's lines
    nj.run(pcap, ["-c", conf, "-S", rules], outdir=out)
    again = open(os.path.join(outdir, "fast.log")).read().splitlines()
    c.check(len(again) == 2 * len(lines), f"fast append: {len(again)} lines, want {2 * len(lines)}")
    # append: no truncates; a fast output alone (no eve-log) works
    with open(conf, "w") as f:
        f.write(FAST_CONF.format(append="no", eve=""))
    nj.run(pcap, ["-c", conf, "-S", rules], outdir=out)
    alone = open(os.path.join(outdir, "fast.log")).read().splitlines()
    c.check(sorted(alone) == sorted(lines), f"fast alone, append no: {len(alone)} lines")


def flow_metadata():
    """Flow variables in EVE (Suricata's EveAddMetadata): traffic/id and traffic/label
    flowbits as "traffic", other flowbits and flowints under "metadata", in the alert and
    in the flow event (written before the flow's detection state is released)."""
    work = tempfile.mkdtemp(prefix="nj-meta-")
    pcap = os.path.join(work, "default.pcap")
    subprocess.run([nj.pcapgen(), "-o", pcap, "--scenario", "default"], check=True,
                   stderr=subprocess.DEVNULL)
    rules = os.path.join(work, "meta.rules")
    with open(rules, "w") as f:
        f.write('alert http any any -> any any (msg:"curl"; http.user_agent; content:"curl/"; '
                'flowbits:set,traffic/id/curl; flowbits:set,traffic/label/tool; '
                'flowbits:set,seen.curl; flowint:uas,+,1; sid:9200001;)\n'
                'alert http any any -> any any (msg:"never"; http.user_agent; content:"curl/"; '
                'flowbits:isset,nope; flowbits:set,nope2; sid:9200002;)\n')
    outdir, _ = nj.run(pcap, ["-S", rules], outdir=os.path.join(work, "out"))
    evs = nj.events(outdir)
    al = [e for e in alerts(evs) if e["alert"]["signature_id"] == 9200001]
    c.check(len(al) >= 1, f"metadata: the curl rule alerts ({len(al)})")
    ids = {e["flow_id"] for e in al}
    flows = [e for e in evs if e["event_type"] == "flow" and e["flow_id"] in ids]
    c.check(len(flows) == len(ids), f"metadata: flow events of the alerting flows ({len(flows)})")
    for e in al + flows:
        what = f"{e['event_type']} {e['flow_id']}"
        c.check(e.get("traffic") == {"id": ["curl"], "label": ["tool"]},
                f"{what}: traffic {e.get('traffic')}")
        md = e.get("metadata", {})
        c.check(md.get("flowbits") == ["seen.curl"], f"{what}: metadata.flowbits {md}")
        c.check(md.get("flowints", {}).get("uas", 0) >= 1, f"{what}: metadata.flowints {md}")
    quiet = [e for e in evs if e["event_type"] == "flow" and e["flow_id"] not in ids]
    c.check(all("metadata" not in e and "traffic" not in e for e in quiet),
            "metadata: flows without variables have no metadata")


example()
corpus()
tagging()
fast_log()
flow_metadata()
c.done()
