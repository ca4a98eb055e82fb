"""Bad packets never crash, hang or lose output: a capture whose packets are
deterministically mutated (flipped header bytes, cut lengths, garbage) goes
through the real binary with 1 and 2 workers; it must exit 0, count every
packet, write only valid JSON, and report the damage as decoder events."""
import os
import random
import struct
import subprocess
import tempfile

import nj

c = nj.Checks()
tmp = tempfile.mkdtemp(prefix="nj-robust-")
src = os.path.join(tmp, "src.pcap")
subprocess.run([nj.pcapgen(), "--scenario", "default", "--seed", "5", "-o", src], check=True,
               capture_output=True)

rng = random.Random(1234)
data = open(src, "rb").read()
out = bytearray(data[:24])
pos, n = 24, 0
while pos + 16 <= len(data):
    ts_s, ts_us, caplen, wirelen = struct.unpack("<IIII", data[pos:pos + 16])
    pkt = bytearray(data[pos + 16:pos + 16 + caplen])
    pos += 16 + caplen
    r = rng.random()
    if r < 0.25:  # flip bytes in the headers
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(min(len(pkt), 80))
            pkt[i] = rng.randrange(256)
    elif r < 0.35:  # cut the packet short (captured length only)
        pkt = pkt[:rng.randrange(len(pkt) + 1)]
    elif r < 0.40:  # pure garbage
        pkt = bytearray(rng.randbytes(rng.randrange(1, 200)))
    out += struct.pack("<IIII", ts_s, ts_us, len(pkt), max(wirelen, len(pkt))) + pkt
    n += 1
bad = os.path.join(tmp, "mutated.pcap")
open(bad, "wb").write(out)

for workers in (1, 2):
    outdir, proc = nj.run(bad, ["--workers", str(workers), "-k", "all"],
                          outdir=os.path.join(tmp, f"w{workers}"), timeout=120)
    evs = nj.events(outdir)  # fails on any invalid JSON line
    stats = [e for e in evs if e["event_type"] == "stats"]
    c.check(len(stats) >= 1, f"{workers} worker(s): stats written")
    if not stats:
        continue
    s = stats[-1]["stats"]
    c.check(s["decoder"]["pkts"] == n, f"{workers} worker(s): every packet counted ({s['decoder']['pkts']} of {n})")
    def total(v):
        return sum(total(x) for x in v.values()) if isinstance(v, dict) else v
    events = total(s["decoder"].get("event", {}))
    c.check(events > 100, f"{workers} worker(s): damage reported as decoder events ({events})")
    c.check(s["decoder"].get("invalid", 0) > 0, f"{workers} worker(s): invalid packets counted")
    c.check(any(e["event_type"] == "anomaly" for e in evs), f"{workers} worker(s): anomaly events written")
c.done()
