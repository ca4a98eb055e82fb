"""Community ID v1 through the real binary: every baseline ID of the
corelight spec's combined.pcap must appear in our flow events, for seed 0
and seed 1, set both our way (--set community-id-seed) and Suricata's
(outputs.0.eve-log.community-id-seed)."""
import json
import os

import nj

pcap = nj.need_corpus("community-id", "pcaps", "combined.pcap")
base = nj.need_corpus("community-id", "baseline")
c = nj.Checks()

suricata_cfg = os.path.join(nj.HERE, "data", "eve-plain.yaml")
for seed, fname in ((0, "baseline_deflt.json"), (1, "baseline_seed1.json")):
    want = json.load(open(os.path.join(base, fname)))
    runs = {
        "nightjar --set": (["--set", f"community-id-seed={seed}"], "eve.json.zst"),
        "suricata layout": (["-c", suricata_cfg, "--set", "outputs.0.eve-log.community-id=yes",
                             "--set", f"outputs.0.eve-log.community-id-seed={seed}"], "eve.json"),
    }
    for how, (args, out) in runs.items():
        outdir, _ = nj.run(pcap, args)
        evs = nj.events(outdir, out)
        flows = [e for e in evs if e.get("event_type") == "flow"]
        got = {e.get("community_id") for e in flows}
        c.check(all("community_id" in e for e in flows), f"seed {seed} ({how}): every flow event has community_id")
        for w in want:
            c.check(w["communityid"] in got,
                    f"seed {seed} ({how}): {w['saddr']}:{w['sport']} -> {w['daddr']}:{w['dport']} proto {w['proto']} "
                    f"expected {w['communityid']}")
c.done()
