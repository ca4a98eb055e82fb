"""Rule errors in the log outputs, end to end with the real binary: the JSON
log output (EVE `engine` events) and the plain one (suricata.log) get
Suricata's per-rule sequence and summary, `-r DIR` without captures loads the
rules and exits 0, and --init-errors-fatal turns a failed rule into exit 1."""
import json
import os
import subprocess
import tempfile

import nj

c = nj.Checks()
tmp = tempfile.mkdtemp(prefix="nj-rulelog-")
capdir = os.path.join(tmp, "captures")  # a directory without captures
os.mkdir(capdir)
rules = os.path.join(tmp, "test.rules")
with open(rules, "w") as f:
    f.write('alert tcp any any -> any any (msg:"ok"; content:"abc"; sid:1;)\n')
    f.write('alert tcp any any -> any any (msg:"bad"; content:"|01 10 0j|"; sid:2;)\n')
    f.write('alert tcp any any -> any any (msg:"bad2"; content:"a"; within:1048577; sid:3;)\n')
conf = os.path.join(tmp, "log.yaml")
with open(conf, "w") as f:
    f.write("logging:\n  default-log-level: info\n  outputs:\n"
            "  - file:\n      enabled: yes\n      filename: engine.json\n      type: json\n"
            "  - file:\n      enabled: yes\n      filename: plain.log\n")


def run(*extra):
    out = tempfile.mkdtemp(prefix="out-", dir=tmp)
    cmd = [nj.binary(), "-r", capdir, "-l", out, "-c", conf, "-S", rules] + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    return out, p


out, p = run()
c.check(p.returncode == 0, f"-r DIR without captures exits 0 (got {p.returncode}: {p.stderr[-300:]})")
evs = [json.loads(l) for l in open(os.path.join(out, "engine.json"))]
c.check(all(e.get("event_type") == "engine" and e.get("log_level") and e.get("timestamp")
            for e in evs), "every line is an engine event with timestamp and log_level")
msgs = [(e["engine"]["module"], e["engine"]["message"], e["log_level"]) for e in evs]
c.check(("detect-content", "Invalid hex code in content - |01 10 0j|, hex j. Invalidating signature.",
         "Error") in msgs, "the keyword's reason under detect-content, without the keyword prefix")
c.check(("detect-within", "invalid value for within: 1048577", "Error") in msgs,
        "within's reason under detect-within")
parse_err = [m for m in msgs if m[0] == "detect" and m[1].startswith("error parsing signature")]
c.check(len(parse_err) == 2 and "at line 2" in parse_err[0][1] and "at line 3" in parse_err[1][1]
        and "from file " + rules in parse_err[0][1],
        f"one 'error parsing signature ... from file F at line N' per failed rule ({parse_err})")
c.check(("detect", "1 rule files processed. 1 rules successfully loaded, 2 rules failed, "
         "0 rules skipped", "Info") in msgs, "the load summary")
c.check(("detect", "1 signatures processed.", "Info") in msgs, "signatures processed")
i_hex = [i for i, m in enumerate(msgs) if m[0] == "detect-content"][0]
c.check(msgs[i_hex + 1][0] == "detect" and "at line 2" in msgs[i_hex + 1][1],
        "the reason comes right before its 'error parsing signature'")
plain = open(os.path.join(out, "plain.log")).read().splitlines()
c.check(len(plain) == len(evs), "the plain output has the same messages")
c.check(any("<Error>" in l and "detect-content: Invalid hex code" in l for l in plain),
        "plain lines carry level and module")
c.check("test.rules:2: sid 2: content: Invalid hex code" in p.stderr,
        "the console keeps file:line: sid N: keyword: reason")

out, p = run("--init-errors-fatal")
c.check(p.returncode == 1, f"--init-errors-fatal: a failed rule gives exit 1 (got {p.returncode})")
evs = [json.loads(l) for l in open(os.path.join(out, "engine.json"))]
c.check(any(e["engine"]["message"] == "Loading signatures failed." and e["log_level"] == "Error"
            for e in evs), "--init-errors-fatal logs 'Loading signatures failed.'")

with open(rules, "w") as f:
    f.write('alert tcp any any -> any any (msg:"bad"; content:"|0j|"; sid:2;)\n')
out, p = run()
c.check(p.returncode == 0, "no rule loaded is not fatal without --init-errors-fatal")
evs = [json.loads(l) for l in open(os.path.join(out, "engine.json"))]
c.check(any(e["engine"]["message"] == "1 rule files specified, but no rules were loaded!"
            and e["log_level"] == "Warning" for e in evs), "no rules loaded: Suricata's warning")
c.done()
