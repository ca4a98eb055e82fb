#!/usr/bin/python3
"""Baseline learn-then-detect through the real binary (docs/baseline.md).

Capture A: pcapgen's default scenario, seed 1, 1000 flows: learned into a
baseline file (clients 10.0.0.0/8 form one group). Captures B: other seeds
with the same host population (--population-seed 1): benign ones must give
no policy anomaly at all; one with an injected new communication
(10.0.1.7 -> 203.0.113.99:8443 TLS) must give exactly one, naming the new
peer and the new service. Then: a policy entry approves it (no anomaly; with
log-allowed its justification and approval are reported); the analyst edits
the baseline file (the edit is honoured on re-read); the same traffic 6 hours
later is one unusual_hour event (repeats counted, not reported); two workers
learn the same file as one; small tables count what they could not hold.
"""
import ipaddress
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

try:
    import yaml  # Debian python3-yaml: a second reader of the baseline file
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(nj.SKIP)

c = nj.Checks()
work = tempfile.mkdtemp(prefix="nj-baseline-")
GROUP = ["--set", "baseline.groups.clients=[10.0.0.0/8]"]
INJECT = "10.0.1.7>203.0.113.99:8443/tls"


def gen(name, *args):
    path = os.path.join(work, name)
    subprocess.run([nj.pcapgen(), "-o", path, "--scenario", "default", "--ipv6-share", "0"]
                   + list(args), check=True, stderr=subprocess.DEVNULL)
    return path


def run(pcap, *args):
    out = tempfile.mkdtemp(prefix="out-", dir=work)
    nj.run(pcap, list(args), outdir=out)
    evs = nj.events(out)
    stats = [e for e in evs if e["event_type"] == "stats"]
    bl = stats[-1]["stats"].get("baseline", {}) if stats else {}
    return [e for e in evs if e["event_type"] == "anomaly"
            and e["anomaly"].get("type") == "policy"], bl


def learn(pcap, path, *args):
    return run(pcap, "--set", "baseline.mode=learn", "--set", "baseline.file=" + path, *args)


def detect(pcap, path, *args):
    return run(pcap, "--set", "baseline.mode=detect", "--set", "baseline.file=" + path, *args)


def main():
    a = gen("a.pcap", "--seed", "1", "--flows", "1000", "--duration", "300")
    base = os.path.join(work, "baseline.yaml")
    _, st = learn(a, base, *GROUP)
    c.check(os.path.exists(base), "learn wrote no baseline file")
    text = open(base).read()
    c.check('group: "clients"' in text, "no clients profile in the baseline")
    c.check(re.search(r"tcp/443/tls: \d+", text) is not None, "no tcp/443/tls service learned")
    c.check("hosts-dropped: 0 " in text and "entries-dropped: 0 " in text,
            "default bounds dropped something")
    c.check(st.get("learned", 0) >= 1000, f"learned {st.get('learned')} flows, want >= 1000")
    c.check(not os.path.exists(base + ".tmp"), "temporary file left behind")

    # benign captures of the same population: nothing
    for seed in ("2", "3"):
        b = gen(f"benign{seed}.pcap", "--seed", seed, "--population-seed", "1", "--flows", "300")
        evs, st = detect(b, base, *GROUP)
        c.check(evs == [], f"benign seed {seed}: {len(evs)} policy anomalies: {evs[:3]}")
        c.check(st.get("flows", 0) >= 300 and st.get("anomalies") == 0,
                f"benign seed {seed}: stats {st}")

    # the injected new communication, and nothing else
    inj = gen("inject.pcap", "--seed", "2", "--population-seed", "1", "--flows", "300",
              "--inject-new", INJECT)
    evs, st = detect(inj, base, *GROUP)
    c.check(len(evs) == 1, f"injected: {len(evs)} policy anomalies, want 1: {evs}")
    for e in evs:
        an = e["anomaly"]
        c.check(e["src_ip"] == "10.0.1.7" and e["dest_ip"] == "203.0.113.99"
                and e["dest_port"] == 8443, f"injected: wrong flow {e}")
        c.check(an["event"] == "new_peer" and set(an["reasons"]) == {"new_peer", "new_service"},
                f"injected: reasons {an}")
        c.check(an.get("group") == "clients" and an.get("host") == "10.0.1.7"
                and an.get("peer") == "203.0.113.99" and an.get("service") == "tcp/8443/tls",
                f"injected: fields {an}")
    c.check(st.get("anomalies") == 1, f"injected: stats {st}")
    evs, st = detect(inj, base, *GROUP, "--workers", "2")
    c.check(len(evs) == 1 and evs[0]["dest_ip"] == "203.0.113.99",
            f"injected, 2 workers: {len(evs)} anomalies: {evs}")

    # a policy entry approves it: no anomaly; log-allowed shows the approval
    pol = os.path.join(work, "policy.yaml")
    with open(pol, "w") as f:
        f.write("policy:\n"
                "  - name: server-y-dr-backup\n"
                "    from: clients\n"
                "    to: 203.0.113.0/24\n"
                "    service: tcp/8443/tls\n"
                "    justification: nightly backup to the DR site\n"
                "    approval: CHG-4711\n")
    evs, st = detect(inj, base, *GROUP, "--set", "baseline.policy=" + pol)
    c.check(evs == [], f"policy: {len(evs)} anomalies: {evs}")
    c.check(st.get("policy_allowed", 0) >= 1, f"policy: stats {st}")
    evs, st = detect(inj, base, *GROUP, "--set", "baseline.policy=" + pol,
                     "--set", "baseline.log-allowed=yes")
    c.check(len(evs) == 1 and evs[0]["anomaly"]["event"] == "allowed",
            f"log-allowed: {evs}")
    for e in evs:
        p = e["anomaly"].get("policy", {})
        c.check(p.get("name") == "server-y-dr-backup"
                and p.get("justification") == "nightly backup to the DR site"
                and p.get("approval") == "CHG-4711", f"log-allowed: policy {p}")
    # a policy for another port does not cover it
    with open(pol, "w") as f:
        f.write("policy:\n  - {name: other, from: clients, to: 203.0.113.0/24, "
                "service: tcp/9443/tls, justification: x, approval: CHG-1}\n")
    evs, _ = detect(inj, base, *GROUP, "--set", "baseline.policy=" + pol)
    c.check(len(evs) == 1, f"policy for another port: {len(evs)} anomalies")
    # an entry without justification stops start-up with file:line
    with open(pol, "w") as f:
        f.write("policy:\n  - name: nojust\n    from: clients\n    approval: CHG-2\n")
    p = subprocess.run([nj.binary(), "-r", inj, "-l", os.path.join(work, "bad"), "--set",
                        "baseline.mode=detect", "--set", "baseline.file=" + base,
                        "--set", "baseline.policy=" + pol] + GROUP,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c.check(p.returncode != 0 and "justification" in p.stderr and "policy.yaml:2" in p.stderr,
            f"policy without justification: rc {p.returncode}: {p.stderr[-300:]}")

    # countries and ASNs from the static geo table (what a GeoIP hook gives): the injected peer
    # is in GB, everything else in the US; the seed's example policy ("may talk TLS to GB on
    # 8443, change ticket") approves it
    geo = os.path.join(work, "geo.yaml")
    conf = os.path.join(work, "geo-conf.yaml")
    with open(conf, "w") as f:
        f.write("baseline:\n  groups:\n    clients: [10.0.0.0/8]\n  geo-static:\n"
                "    - 203.0.113.99 GB AS64511\n    - 0.0.0.0/0 US AS64500\n")
    learn(a, geo, "-c", conf)
    doc = yaml.safe_load(open(geo))
    prof = [p for p in doc["profiles"] if p.get("group") == "clients"][0]
    c.check(set(prof.get("countries", {})) == {"US"} and set(prof.get("asns", {})) == {64500},
            f"geo: learned countries {prof.get('countries')} asns {prof.get('asns')}")
    evs, _ = detect(inj, geo, "-c", conf)
    c.check(len(evs) == 1 and evs[0]["anomaly"]["event"] == "new_country"
            and evs[0]["anomaly"]["reasons"] == ["new_country", "new_asn", "new_peer", "new_service"]
            and evs[0]["anomaly"].get("country") == "GB" and evs[0]["anomaly"].get("asn") == 64511,
            f"geo: {evs}")
    with open(pol, "w") as f:
        f.write("policy:\n  - name: server-y-tls-gb\n    from: 10.0.1.7\n    to: GB\n"
                "    service: {proto: tcp, port: 8443, app_proto: tls}\n"
                "    justification: Server_Y may talk TLS to GB on 8443\n"
                "    approval: change ticket X\n")
    evs, st = detect(inj, geo, "-c", conf, "--set", "baseline.policy=" + pol,
                     "--set", "baseline.log-allowed=yes")
    c.check(len(evs) == 1 and evs[0]["anomaly"]["event"] == "allowed"
            and evs[0]["anomaly"]["policy"]["approval"] == "change ticket X"
            and evs[0]["anomaly"]["country"] == "GB", f"geo policy: {evs}")

    # the analyst edits the baseline: the new peer and service become normal
    edited = os.path.join(work, "edited.yaml")
    lines = []
    for line in open(base).read().splitlines():
        lines.append(line)
        if line == "    peers:" and not any("203.0.113.0/24" in x for x in lines):
            lines.append('      "203.0.113.0/24": 0')
        if line == "    services:" and not any("tcp/8443" in x for x in lines):
            lines.append("      tcp/8443/tls: 0")
    open(edited, "w").write("\n".join(lines) + "\n")
    evs, _ = detect(inj, edited, *GROUP)
    c.check(evs == [], f"edited baseline: {len(evs)} anomalies: {evs}")
    # only the service added: the peer is still new
    lines = [x for x in open(edited).read().splitlines() if "203.0.113.0/24" not in x]
    open(edited, "w").write("\n".join(lines) + "\n")
    evs, _ = detect(inj, edited, *GROUP)
    c.check(len(evs) == 1 and evs[0]["anomaly"]["reasons"] == ["new_peer"],
            f"edited (service only): {evs}")

    # the same benign traffic 6 hours later: one unusual_hour event, the rest repeats
    late = gen("late.pcap", "--seed", "3", "--population-seed", "1", "--flows", "300",
               "--start", str(1700000000 + 6 * 3600))
    evs, st = detect(late, base, *GROUP)
    c.check(len(evs) == 1 and evs[0]["anomaly"]["event"] == "unusual_hour"
            and evs[0]["anomaly"]["expected"]["hours"] == [22],
            f"late: {len(evs)} anomalies: {evs[:2]}")
    c.check(st.get("repeats", 0) >= 250, f"late: repeats {st.get('repeats')}, want >= 250")

    # two workers learn what one learns (the merge): the group's peers and services, and
    # (offline time is each worker's packet time, so no flow is split) the same counts
    def group_sets(path):
        doc = yaml.safe_load(open(path))
        prof = [p for p in doc["profiles"] if p.get("group") == "clients"][0]
        return set(prof["peers"]), set(prof["services"]), prof["hours"]

    def group_profile(path):
        doc = yaml.safe_load(open(path))
        return [p for p in doc["profiles"] if p.get("group") == "clients"][0], doc["learned"]

    base2 = os.path.join(work, "baseline2.yaml")
    learn(a, base2, *GROUP, "--workers", "2")
    one, two = group_sets(base), group_sets(base2)
    c.check(one == two, f"2 workers learned another baseline: {one} vs {two}")
    c.check(group_profile(base) == group_profile(base2),
            "2 workers learned other counts (flows, bytes) than 1 worker")
    c.check(len(one[0]) >= 30 and len(one[1]) >= 6, f"few peers/services learned: {one}")

    # the tool: show is the identity on a file nightjar wrote; merge sums and unites
    tool = os.path.join(nj.build_dir(), "tools", "baseline", "nightjar-baseline")
    c.check(os.path.exists(tool), f"{tool} was not built")
    if os.path.exists(tool):
        p = subprocess.run([tool, "show", base], stdout=subprocess.PIPE, text=True)
        c.check(p.returncode == 0 and p.stdout == open(base).read(), "tool show changed the file")
        merged = os.path.join(work, "merged.yaml")
        p = subprocess.run([tool, "merge", "-o", merged, base, edited])
        doc = yaml.safe_load(open(merged)) if p.returncode == 0 else None
        c.check(doc is not None and doc["learned"]["flows"]
                == 2 * yaml.safe_load(open(base))["learned"]["flows"], "tool merge: flows")
        prof = [x for x in doc["profiles"] if x.get("group") == "clients"][0] if doc else {}
        c.check("tcp/8443/tls" in prof.get("services", {}), "tool merge: edited service lost")
        evs, _ = detect(inj, merged, *GROUP)
        c.check(len(evs) == 1 and evs[0]["anomaly"]["reasons"] == ["new_peer"],
                f"merged baseline: {evs}")

    # bounds: per-host profiles (no group) in small tables are counted
    small = os.path.join(work, "small.yaml")
    _, st = learn(a, small, "--set", "baseline.max-hosts=50",
                  "--set", "baseline.max-entries-per-host=3")
    text = open(small).read()
    hd = int(re.search(r"hosts-dropped: (\d+)", text).group(1))
    ed = int(re.search(r"entries-dropped: (\d+)", text).group(1))
    c.check(hd > 0 and st.get("hosts_full") == hd, f"max-hosts: file {hd}, stats {st}")
    c.check(ed > 0 and st.get("entries_full") == ed, f"max-entries-per-host: file {ed}, {st}")
    c.check(text.count("  - host: ") == 50, "max-hosts: not 50 profiles")
    c.check(max(len(re.findall(r"^      \S", blk, re.M)) for blk in text.split("  - host:")[1:])
            <= 3, "a profile with more than 3 entries")

    geoip_part()
    shutil.rmtree(work, ignore_errors=True)
    c.done()


def udp_pcap(path, flows, t0):
    """A classic pcap of one-packet-each-way UDP flows (client, server, sport, dport)."""
    def csum(b):
        b += b"\0" * (len(b) % 2)
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    def frame(src, dst, sp, dp, payload):
        s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
        ulen = 8 + len(payload)
        udp = struct.pack("!HHHH", sp, dp, ulen, 0) + payload
        uc = csum(s + d + struct.pack("!BBH", 0, 17, ulen) + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0, s, d)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp

    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = t0
        for cl, sv, sp, dp in flows:
            for fr in (frame(cl, sv, sp, dp, b"hello baseline " * 4),
                       frame(sv, cl, dp, sp, b"answer baseline " * 4)):
                t += 0.01
                f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(fr), len(fr)) + fr)
    return path


def geoip_part():
    """Countries and ASNs from real GeoIP lookups (the worker's GeoIP cache answers the
    baseline's geo hook): MaxMind's test databases, known answers from the corpus README
    (81.2.69.142 GB, 216.160.83.57 US AS209, 89.160.20.128 SE AS29518, 2.125.160.216 GB)."""
    td = os.path.join(nj.CORPUS, "geoip", "test-data")
    city = os.path.join(td, "GeoIP2-City-Test.mmdb")
    asn = os.path.join(td, "GeoLite2-ASN-Test.mmdb")
    if not (os.path.exists(city) and os.path.exists(asn)):
        print(f"SKIP (part): {td} is not here, the GeoIP baseline checks did not run")
        return
    geo = ["--set", "geoip.enabled=yes", "--set", "geoip.database=" + city,
           "--set", "geoip.asn-database=" + asn] + GROUP
    known = [("10.0.2.5", "81.2.69.142", 40000 + i, 5000) for i in range(5)] + \
            [("10.0.2.5", "216.160.83.57", 41000 + i, 5000) for i in range(5)]
    t0 = 1700000000
    lp = udp_pcap(os.path.join(work, "geo-learn.pcap"), known, t0)
    base = os.path.join(work, "geo-baseline.yaml")
    learn(lp, base, *geo)
    doc = yaml.safe_load(open(base))
    prof = [p for p in doc["profiles"] if p.get("group") == "clients"]
    prof = prof[0] if prof else {}
    c.check(set(prof.get("countries", {})) == {"GB", "US"} and set(prof.get("asns", {})) == {209},
            f"geoip: learned countries {prof.get('countries')} asns {prof.get('asns')}")
    # the same traffic a day later: nothing new
    same = udp_pcap(os.path.join(work, "geo-same.pcap"), known, t0 + 86400)
    evs, st = detect(same, base, *geo)
    c.check(evs == [] and st.get("flows", 0) == 10, f"geoip, known peers: {evs} {st}")
    # a new peer in Sweden (new country and ASN) and a new peer in a known country (GB)
    new = known + [("10.0.2.5", "89.160.20.128", 42000, 5000),
                   ("10.0.2.5", "2.125.160.216", 42001, 5000)]
    dp = udp_pcap(os.path.join(work, "geo-new.pcap"), new, t0 + 86400)
    evs, st = detect(dp, base, *geo)
    by_peer = {e["dest_ip"]: e["anomaly"] for e in evs}
    se, gb = by_peer.get("89.160.20.128", {}), by_peer.get("2.125.160.216", {})
    c.check(len(evs) == 2, f"geoip: {len(evs)} anomalies, want 2: {evs}")
    c.check(se.get("event") == "new_country" and se.get("country") == "SE"
            and se.get("asn") == 29518
            and se.get("reasons") == ["new_country", "new_asn", "new_peer"],
            f"geoip: the Swedish peer: {se}")
    c.check(gb.get("reasons") == ["new_peer"] and gb.get("country") == "GB",
            f"geoip: the new peer in GB: {gb}")
    # without GeoIP the same detection sees no country at all (the flag came from the lookups)
    evs, _ = detect(dp, base, *GROUP)
    c.check(len(evs) == 2 and all("country" not in e["anomaly"] for e in evs)
            and all(e["anomaly"].get("reasons") == ["new_peer"] for e in evs),
            f"no geoip: {evs}")


main()
