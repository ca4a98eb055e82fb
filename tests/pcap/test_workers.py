"""1 and 2 workers must give the same set of flow records for the same pcap
(both directions of every flow meet on one worker; flow ids, counters and end
reasons do not depend on the worker count), on every run.

Offline, time is the packets' time as each worker sees them. A worker that
expired flows by the fan-out reader's clock (ahead of packets still queued in
its ring) split flows nondeterministically: a few extra flow records, the rest
of a flow picked up mid-stream with client and server swapped. That shows only
on captures long enough for the reader to run ahead by more than a timeout, and
only on some runs, so the 2-worker runs are repeated on a 1000-flow capture,
once with a large ring (the reader may run further ahead)."""
import json
import os
import subprocess
import tempfile

import nj

RUNS = 3  # 2-worker runs per capture (the old bug showed on most runs under load)

c = nj.Checks()
tmp = tempfile.mkdtemp(prefix="nj-workers-")


def flow_records(outdir):
    flows = [e for e in nj.events(outdir) if e["event_type"] == "flow"]
    full = sorted(json.dumps(e, sort_keys=True) for e in flows)
    # the identity of a flow and what it carried, independent of flow_id
    tuples = sorted(
        (e["proto"], e["src_ip"], e.get("src_port", 0), e["dest_ip"], e.get("dest_port", 0),
         e["flow"]["pkts_toserver"], e["flow"]["pkts_toclient"],
         e["flow"]["bytes_toserver"], e["flow"]["bytes_toclient"])
        for e in flows)
    return flows, full, tuples


def show_diff(a, b, what_a, what_b):
    a, b = set(a), set(b)
    for r in sorted(a - b)[:3]:
        print(f"  only {what_a}:", r)
    for r in sorted(b - a)[:3]:
        print(f"  only {what_b}:", r)


captures = [("mix", ["--scenario", "default", "--seed", "7"], 50),
            ("big", ["--scenario", "default", "--seed", "1", "--flows", "1000"], 1000)]
for name, gen_args, min_flows in captures:
    pcap = os.path.join(tmp, name + ".pcap")
    subprocess.run([nj.pcapgen()] + gen_args + ["-o", pcap], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outdir, _ = nj.run(pcap, ["--workers", "1"], outdir=os.path.join(tmp, name + "-w1"))
    flows, ref_full, ref_tuples = flow_records(outdir)
    c.check(len(flows) > min_flows, f"{name}, 1 worker: {len(flows)} flow events (want > {min_flows})")
    ids = [e["flow_id"] for e in flows]
    c.check(len(ids) == len(set(ids)), f"{name}: flow ids are unique")
    runs = [[]] * RUNS
    if name == "big":
        runs = runs + [["--set", "nightjar.dpdk.ring-size=8192"]] * 2
    for i, extra in enumerate(runs):
        outdir, _ = nj.run(pcap, ["--workers", "2"] + extra,
                           outdir=os.path.join(tmp, f"{name}-w2-{i}"))
        flows2, full, tuples = flow_records(outdir)
        what = f"{name}, 2 workers, run {i + 1}{' ' + ' '.join(extra) if extra else ''}"
        c.check(len(flows2) == len(flows),
                f"{what}: {len(flows2)} flow events (1 worker: {len(flows)})")
        c.check(tuples == ref_tuples, f"{what}: same flow tuples and counters as 1 worker")
        if tuples != ref_tuples:
            show_diff(ref_tuples, tuples, "with 1 worker", "with 2 workers")
        c.check(full == ref_full, f"{what}: same flow records as 1 worker")
        if full != ref_full and tuples == ref_tuples:
            show_diff(ref_full, full, "with 1 worker", "with 2 workers")
c.done()
