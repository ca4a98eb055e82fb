"""Offline mode end to end: the default output is zstd EVE readable while
complete, every packet of the file is counted, flows are ended at end of
input, and bad input files give a clear error instead of a crash or hang."""
import os
import struct
import subprocess
import tempfile

import nj

c = nj.Checks()
tmp = tempfile.mkdtemp(prefix="nj-offline-")
pcap = os.path.join(tmp, "demo.pcap")
subprocess.run([nj.pcapgen(), "--scenario", "default", "--seed", "3", "-o", pcap], check=True)


def count_packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        endian = "<" if hdr[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        n = 0
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return n
            caplen = struct.unpack(endian + "IIII", rec)[2]
            if len(f.read(caplen)) < caplen:
                return n
            n += 1


npkts = count_packets(pcap)
outdir, proc = nj.run(pcap)
c.check("packets" in proc.stdout and "eve.json.zst" in proc.stdout, "summary line names the packets and the EVE file")
evs = nj.events(outdir)
types = {}
for e in evs:
    types[e["event_type"]] = types.get(e["event_type"], 0) + 1
c.check(types.get("flow", 0) > 50, f"flow events written ({types.get('flow', 0)})")
stats = [e for e in evs if e["event_type"] == "stats"]
c.check(len(stats) >= 1, "a stats event at exit")
if stats:
    s = stats[-1]["stats"]
    c.check(s.get("decoder", {}).get("pkts") == npkts, f"decoder.pkts == {npkts} packets in the file (got {s.get('decoder', {}).get('pkts')})")
    c.check(s.get("flow", {}).get("tcp", 0) > 0, "flow.tcp counted")
flows = [e for e in evs if e["event_type"] == "flow"]
c.check(all(e["flow"]["reason"] in ("timeout", "shutdown", "forced") for e in flows), "every flow has an end reason")
c.check(all(e["timestamp"].endswith("+0000") and len(e["timestamp"]) == 31 for e in evs), "Suricata timestamp format")
pk = sum(e["flow"]["pkts_toserver"] + e["flow"]["pkts_toclient"] for e in flows)
c.check(0 < pk <= npkts, f"flow packet counts add up ({pk} of {npkts})")

# Plain output by configuration.
outdir2, _ = nj.run(pcap, ["--set", "outputs.0.eve-log.filename=eve.json", "--set", "outputs.0.eve-log.enabled=yes"])
c.check(os.path.exists(os.path.join(outdir2, "eve.json")), "plain eve.json when the file name says so")

# Bad inputs: clear error, non-zero exit, no crash, no hang.
bad = {
    "missing": os.path.join(tmp, "does-not-exist.pcap"),
    "garbage": os.path.join(tmp, "garbage.pcap"),
    "empty": os.path.join(tmp, "empty.pcap"),
}
open(bad["garbage"], "wb").write(os.urandom(4096))
open(bad["empty"], "wb").close()
for what, path in bad.items():
    p = subprocess.run([nj.binary(), "-r", path, "-l", tmp], capture_output=True, text=True, timeout=60)
    c.check(p.returncode == 1 and "error" in p.stderr and p.returncode >= 0, f"{what} pcap: exit 1 with an error ({p.returncode}: {p.stderr.strip()[:120]})")

# Truncated capture: the complete packets are processed, exit 0.
data = open(pcap, "rb").read()
trunc = os.path.join(tmp, "trunc.pcap")
open(trunc, "wb").write(data[: len(data) // 2])
outdir3, _ = nj.run(trunc)
evs3 = nj.events(outdir3)
c.check(any(e["event_type"] == "flow" for e in evs3), "truncated pcap: flows still logged")

# Bad configuration value: file:line and non-zero exit.
cfg = os.path.join(tmp, "bad.yaml")
open(cfg, "w").write("flow:\n  memcap: lots\n")
p = subprocess.run([nj.binary(), "-r", pcap, "-l", tmp, "-c", cfg], capture_output=True, text=True, timeout=60)
c.check(p.returncode != 0 and "bad.yaml:2" in p.stderr, f"bad config value reported with file:line ({p.stderr.strip()[:160]})")

# host-os-policy: a bad network is a start-up error naming the file and line;
# a good one loads.
cfg = os.path.join(tmp, "hostos.yaml")
open(cfg, "w").write("host-os-policy:\n  windows: [0.0.0.0/0]\n  linux: [10.0.0.0/33]\n")
p = subprocess.run([nj.binary(), "-r", pcap, "-l", tmp, "-c", cfg], capture_output=True, text=True, timeout=60)
c.check(p.returncode != 0 and "hostos.yaml:3" in p.stderr and "10.0.0.0/33" in p.stderr, f"bad host-os-policy network reported ({p.stderr.strip()[:160]})")
open(cfg, "w").write("host-os-policy:\n  windows: [0.0.0.0/0]\n  old-linux: [2.2.2.2, 10.0.0.0/8, '2001:db8::/32']\n")
_, p = nj.run(pcap, ["-c", cfg])
c.check(p.returncode == 0, "a good host-os-policy loads")

# stream.memcap bounds the per-flow stream state: counted, never a crash.
outdir4, _ = nj.run(pcap, ["--set", "stream.memcap=4kb"])
st4 = [e for e in nj.events(outdir4) if e["event_type"] == "stats"][-1]["stats"]
c.check(st4.get("tcp", {}).get("ssn_memcap_drop", 0) > 0, f"tcp.ssn_memcap_drop counted with stream.memcap=4kb ({st4.get('tcp', {}).get('ssn_memcap_drop')})")
c.check(any(e["event_type"] == "flow" for e in nj.events(outdir4)), "flows still logged when stream state runs out")
st0 = stats[-1]["stats"] if stats else {}
c.check(st0.get("tcp", {}).get("ssn_memcap_drop", -1) == 0 and st0.get("tcp", {}).get("memuse", -1) >= 0, "tcp.ssn_memcap_drop 0 and tcp.memuse present by default")
c.done()
