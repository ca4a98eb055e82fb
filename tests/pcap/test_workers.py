"""1 and 2 workers must give the same set of flow records for the same pcap
(both directions of every flow meet on one worker; flow ids, counters and end
reasons do not depend on the worker count)."""
import json
import os
import subprocess
import tempfile

import nj

c = nj.Checks()
tmp = tempfile.mkdtemp(prefix="nj-workers-")
pcap = os.path.join(tmp, "mix.pcap")
subprocess.run([nj.pcapgen(), "--scenario", "default", "--seed", "7", "-o", pcap], check=True)

records = {}
for n in (1, 2):
    outdir, _ = nj.run(pcap, ["--workers", str(n)], outdir=os.path.join(tmp, f"w{n}"))
    flows = [e for e in nj.events(outdir) if e["event_type"] == "flow"]
    records[n] = sorted(json.dumps(e, sort_keys=True) for e in flows)
    c.check(len(flows) > 50, f"{n} worker(s): {len(flows)} flow events (want > 50)")

c.check(records[1] == records[2], "1 and 2 workers give the same flow records")
if records[1] != records[2]:
    a, b = set(records[1]), set(records[2])
    for r in sorted(a - b)[:3]:
        print("  only with 1 worker:", r)
    for r in sorted(b - a)[:3]:
        print("  only with 2 workers:", r)
ids = [json.loads(r)["flow_id"] for r in records[1]]
c.check(len(ids) == len(set(ids)), "flow ids are unique")
c.done()
