#!/usr/bin/python3
"""GeoIP / ASN enrichment and the geoip rule keyword through the real binary.

A capture made here (UDP flows to and from the known-answer addresses of
../shared/corpus/geoip/README.md) is read with MaxMind's test databases; the
"geoip" object of every flow, alert and netflow event must hold exactly the
README's answers: country, city, ASN number and organisation, the location's
country and never registered_country, nothing for 8.8.8.8 / 10.x / 192.168.x
and nothing for HOME_NET addresses. Locations are checked against the JSON the
databases were built from (source-data). Every bad-data database (and a
missing file, and a database of the wrong kind) must stop start-up with a
clear message and a non-zero exit, never a crash.
"""
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402

GEO = nj.need_corpus("geoip")
TD = os.path.join(GEO, "test-data")
CITY = os.path.join(TD, "GeoIP2-City-Test.mmdb")
COUNTRY = os.path.join(TD, "GeoIP2-Country-Test.mmdb")
ASN = os.path.join(TD, "GeoLite2-ASN-Test.mmdb")
c = nj.Checks()

# ------------------------------------------------------------------ capture


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_packet(src, dst, sport, dport, payload):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    ulen = 8 + len(payload)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 17, ulen)
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    uc = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0, s.packed, d.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        et = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, s.packed, d.packed)
        et = 0x86DD
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", et)
    return eth + ip + udp


# (client, server): one request and one reply each
FLOWS = [
    ("192.168.1.10", "81.2.69.142"),
    ("10.0.0.1", "89.160.20.128"),
    ("192.168.1.10", "216.160.83.57"),
    ("175.16.199.5", "192.168.1.10"),
    ("214.78.120.1", "89.160.20.128"),
    ("192.168.1.10", "67.43.156.1"),
    ("192.168.1.10", "2.125.160.216"),
    ("192.168.1.10", "202.196.224.1"),
    ("192.168.1.10", "8.8.8.8"),
    ("10.0.0.1", "192.168.1.1"),
    ("192.168.1.10", "1.0.0.1"),
    ("192.168.1.10", "1.128.0.1"),
    ("192.168.1.10", "12.81.92.1"),
    ("2001:db8::10", "2001:218::1"),
    ("2001:db8::10", "2a02:d300::1"),
    ("2001:db8::10", "2600:7000::1"),
]


def write_pcap(path):
    ts = 1700000000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (a, b) in enumerate(FLOWS):
            for k, (s, d, sp, dp) in enumerate(((a, b, 40000 + i, 5353), (b, a, 5353, 40000 + i))):
                pkt = udp_packet(s, d, sp, dp, b"nightjar geoip test %d" % i)
                f.write(struct.pack("<IIII", ts + i, k * 1000, len(pkt), len(pkt)))
                f.write(pkt)


# --------------------------------------------------------- known answers

# README of the corpus: GeoIP2-City country/city, GeoLite2-ASN number/org.
# None: no entry. registered_country is listed to check it never shows up.
KNOWN = {
    "81.2.69.142": dict(cc="GB", name="United Kingdom", city="London", reg="US", asn=None),
    "89.160.20.128": dict(cc="SE", name="Sweden", city="Linköping", reg="DE", asn=(29518, "Bredband2 AB")),
    "216.160.83.57": dict(cc="US", name="United States", city="Milton", reg="GB", asn=(209, None)),
    "2.125.160.216": dict(cc="GB", name="United Kingdom", city="Boxford", reg="FR", asn=None),
    "175.16.199.5": dict(cc="CN", name="China", city="Changchun", reg="CN", asn=None),
    "214.78.120.1": dict(cc="US", name="United States", city="San Diego", reg="US",
                         asn=(721, "DoD Network Information Center")),
    "67.43.156.1": dict(cc="BT", name="Bhutan", city=None, reg="RO", asn=(35908, None)),
    "202.196.224.1": dict(cc="PH", name="Philippines", city=None, reg="PH", asn=None),
    "2001:218::1": dict(cc="JP", name="Japan", city=None, reg="JP", asn=None),
    "2a02:d300::1": dict(cc="UA", name="Ukraine", city=None, reg="UA", asn=None),
    "1.0.0.1": dict(cc=None, asn=(15169, "Google Inc.")),
    "1.128.0.1": dict(cc=None, asn=(1221, "Telstra Pty Ltd")),
    "12.81.92.1": dict(cc=None, asn=(7018, "AT&T Services")),
    "2600:7000::1": dict(cc=None, asn=(6939, "Hurricane Electric, Inc.")),
}
NOTHING = {"8.8.8.8", "10.0.0.1", "192.168.1.1", "192.168.1.10", "2001:db8::10"}


def source_records(name):
    """network -> record from the JSON the test database was built from."""
    out = []
    for item in json.load(open(os.path.join(GEO, "source-data", name))):
        for net, rec in item.items():
            out.append((ipaddress.ip_network(net, strict=False), rec))
    return out


def most_specific(records, ip):
    a = ipaddress.ip_address(ip)
    best = None
    for net, rec in records:
        if net.version == a.version and a in net and (best is None or net.prefixlen > best[0].prefixlen):
            best = (net, rec)
    return best[1] if best else None


def norm(ip):
    return ipaddress.ip_address(ip).compressed


def expect_side(ip, side, city_db, city_src, with_asn=True):
    """Checks one side's object (or its absence) against the known answers."""
    ip = norm(ip)
    k = KNOWN.get(ip)
    want_geo = k is not None and k.get("cc") is not None
    want_as = with_asn and k is not None and k.get("asn") is not None
    where = f"{ip}"
    if not want_geo and not want_as:
        c.check(side is None, f"{where}: no geoip expected, got {side}")
        return
    if not c_check(side is not None, f"{where}: geoip object missing"):
        return
    geo, asn = side.get("geo"), side.get("as")
    if want_geo:
        if c_check(geo is not None, f"{where}: geo missing: {side}"):
            c.check(geo.get("country_iso_code") == k["cc"],
                    f"{where}: country {geo.get('country_iso_code')} want {k['cc']} "
                    f"(registered_country is {k['reg']})")
            c.check(geo.get("country_name") == k["name"], f"{where}: country_name {geo.get('country_name')}")
            if city_db:
                c.check(geo.get("city_name") == k["city"], f"{where}: city {geo.get('city_name')} want {k['city']}")
                rec = most_specific(city_src, ip)
                loc = rec.get("location", {}) if rec else {}
                if "latitude" in loc:
                    got = geo.get("location") or {}
                    c.check(abs(got.get("lat", 999) - loc["latitude"]) < 1e-9 and
                            abs(got.get("lon", 999) - loc["longitude"]) < 1e-9,
                            f"{where}: location {got} want {loc}")
                if rec and "continent" in rec:
                    c.check(geo.get("continent_code") == rec["continent"]["code"],
                            f"{where}: continent {geo.get('continent_code')}")
            else:
                c.check("city_name" not in geo and "location" not in geo,
                        f"{where}: Country database gave city/location: {geo}")
    else:
        c.check(geo is None, f"{where}: unexpected geo {geo}")
    if want_as:
        if c_check(asn is not None, f"{where}: as missing: {side}"):
            num, org = k["asn"]
            c.check(asn.get("number") == num, f"{where}: as.number {asn.get('number')} want {num}")
            c.check((asn.get("organization") or {}).get("name") == org,
                    f"{where}: as.organization {asn.get('organization')} want {org}")
    else:
        c.check(asn is None, f"{where}: unexpected as {asn}")


def c_check(cond, what):
    c.check(cond, what)
    return cond


CONFIG = """%YAML 1.1
---
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert
        - flow
        - netflow
        - stats
"""


def run(work, pcap, sets, rules=None, name="out"):
    cfg = os.path.join(work, "nightjar.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    args = ["-c", cfg]
    for s in sets:
        args += ["--set", s]
    if rules:
        rf = os.path.join(work, name + ".rules")
        with open(rf, "w") as f:
            f.write("\n".join(rules) + "\n")
        args += ["-S", rf]
    outdir, p = nj.run(pcap, args, outdir=os.path.join(work, name))
    return nj.events(outdir, "eve.json"), p


def check_flows(evs, how, city_db=True, with_asn=True, home_extra=()):
    city_src = source_records("GeoIP2-City-Test.json") if city_db else []
    flows = [e for e in evs if e["event_type"] == "flow"]
    c.check(len(flows) == len(FLOWS), f"{how}: {len(flows)} flow events, want {len(FLOWS)}")
    for e in flows:
        g = e.get("geoip", {})
        c.check(set(g) <= {"src", "dest"}, f"{how}: geoip keys {sorted(g)}")
        for addr, key in ((e["src_ip"], "src"), (e["dest_ip"], "dest")):
            if norm(addr) in home_extra:
                c.check(key not in g, f"{how}: HOME_NET address {addr} was enriched: {g.get(key)}")
                continue
            expect_side(addr, g.get(key), city_db, city_src, with_asn)
        # Suricata's own keys stay as they are
        c.check(isinstance(e.get("flow"), dict) and "src_ip" in e and "proto" in e,
                f"{how}: flow event lost its fields")
    return flows


def main():
    work = tempfile.mkdtemp(prefix="nj-geoip-")
    pcap = os.path.join(work, "geoip.pcap")
    write_pcap(pcap)

    # 1. City + ASN: every known answer, on flow, netflow and alert events.
    # sid -> (rule options, alerts expected on the capture: one per matching packet)
    kw = {
        1: ("geoip:dst,GB;", 2),         # 81.2.69.142 and 2.125.160.216 requests
        2: ("geoip:src,CN;", 1),         # 175.16.199.5's request
        3: ("geoip:both,US,SE;", 2),     # 214.78.120.1 <-> 89.160.20.128, both packets
        4: ("geoip:any,JP;", 2),         # IPv6 2001:218::1, either side
        5: ("geoip:!GB,US;", 14),        # a side with a known country outside GB/US
        6: ("geoip: dst,SE;", 2),
        7: ("geoip:FR;", 0),             # FR is only a registered_country
        8: ("geoip:US;", 4),             # not 81.2.69.142, registered in US
    }
    rules = [f'alert udp any any -> any any (msg:"geoip {sid}"; {o} sid:{sid};)' for sid, (o, _) in kw.items()]
    evs, p = run(work, pcap, [f"geoip.database={CITY}", f"geoip.asn-database={ASN}"], rules, "city")
    check_flows(evs, "city+asn")
    nf = [e for e in evs if e["event_type"] == "netflow"]
    c.check(len(nf) >= len(FLOWS), f"netflow events: {len(nf)}")
    city_src = source_records("GeoIP2-City-Test.json")
    for e in nf:
        g = e.get("geoip", {})
        expect_side(e["src_ip"], g.get("src"), True, city_src)
        expect_side(e["dest_ip"], g.get("dest"), True, city_src)
    c.check("8 loaded, 0 failed" in p.stdout, f"geoip rules: {p.stdout[:300]}")
    alerts = [e for e in evs if e["event_type"] == "alert"]
    for sid, (o, want) in kw.items():
        got = sum(1 for e in alerts if e["alert"]["signature_id"] == sid)
        c.check(got == want, f"rule {o} raised {got} alerts, want {want}")
    for e in (a for a in alerts if a["alert"]["signature_id"] == 1):
        g = e.get("geoip", {})
        c.check(g.get("dest", {}).get("geo", {}).get("country_iso_code") == "GB",
                f"alert geoip.dest {g.get('dest')}")
    stats = [e for e in evs if e["event_type"] == "stats"]
    gs = stats[-1]["stats"].get("nightjar", {}).get("geoip") if stats else None
    if c_check(gs is not None, "stats: nightjar.geoip counters missing"):
        c.check(gs["cache_hits"] > 0 and gs["cache_misses"] > 0,
                f"stats: geoip cache hits/misses {gs}")
        c.check(gs["cache_hits"] + gs["cache_misses"] == gs["lookups"], f"stats: {gs}")
        c.check(gs["home_net"] > 0 and gs["errors"] == 0, f"stats: {gs}")

    # 2. Country database only, no ASN: no city, no location, no "as".
    evs, _ = run(work, pcap, [f"geoip.database={COUNTRY}"], name="country")
    check_flows(evs, "country", city_db=False, with_asn=False)

    # 3. HOME_NET from vars.address-groups: those addresses are never looked up.
    home = "[81.2.69.0/24,2001:218::/32,192.168.0.0/16,10.0.0.0/8]"
    evs, _ = run(work, pcap, [f"geoip.database={CITY}", f"geoip.asn-database={ASN}",
                              f"vars.address-groups.HOME_NET={home}"], name="home")
    check_flows(evs, "home", home_extra={"81.2.69.142", "2001:218::1"})

    # 4. No cache (cache-size 0) gives the same answers.
    evs, _ = run(work, pcap, [f"geoip.database={CITY}", f"geoip.asn-database={ASN}",
                              "geoip.cache-size=0"], name="nocache")
    check_flows(evs, "no cache")

    # 4b. Two workers (each with its own cache) give the same answers.
    evs, _ = run(work, pcap, [f"geoip.database={CITY}", f"geoip.asn-database={ASN}",
                              "nightjar.workers=2"], name="workers")
    check_flows(evs, "two workers")

    # 5. Enrichment off: no geoip anywhere.
    evs, _ = run(work, pcap, [], name="off")
    c.check(not any("geoip" in e for e in evs), "geoip present without a database")

    # 6. Bad databases: a clear start-up error and a non-zero exit, never a crash.
    bad = sorted(os.path.join(GEO, "bad-data", n) for n in os.listdir(os.path.join(GEO, "bad-data"))
                 if n.endswith(".mmdb"))
    c.check(len(bad) >= 3, f"bad-data databases: {len(bad)}")
    cases = [("geoip.database", b) for b in bad] + [("geoip.asn-database", b) for b in bad]
    cases += [("geoip.database", os.path.join(work, "missing.mmdb")),
              ("geoip.database", ASN),      # wrong kind
              ("geoip.asn-database", CITY),
              ("geoip.database", pcap)]     # not an mmdb at all
    cfg = os.path.join(work, "nightjar.yaml")
    for key, db in cases:
        for extra in ([], ["-T"]):
            cmd = [nj.binary(), "-r", pcap, "-l", os.path.join(work, "bad"), "-c", cfg,
                   "--set", f"{key}={db}"] + extra
            q = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            what = f"{key}={os.path.basename(db)} {' '.join(extra)}"
            c.check(q.returncode == 1, f"{what}: exit {q.returncode}, want 1: {q.stderr[-300:]}")
            c.check("geoip" in q.stderr and os.path.basename(db) in q.stderr,
                    f"{what}: unclear error: {q.stderr[-300:]}")
    c.done()


main()
