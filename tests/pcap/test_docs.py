"""docs/ stays true: every configuration key the binary registers is
documented in docs/configuration.md, and every EVE event type the binary
can write is described in docs/eve.md."""
import os
import re
import subprocess

import nj

c = nj.Checks()
out = subprocess.run([nj.binary(), "--dump-config-keys"], capture_output=True, text=True, check=True).stdout
keys = re.findall(r"^\| `?([^|`]+?)`? \|", out, re.M)
keys = [k for k in keys if k not in ("key", "---")]
doc = open(os.path.join(nj.REPO, "docs", "configuration.md")).read()
c.check(len(keys) > 20, f"the binary registers configuration keys ({len(keys)})")
for k in keys:
    c.check(f"`{k}`" in doc, f"docs/configuration.md documents `{k}`")
eve = open(os.path.join(nj.REPO, "docs", "eve.md")).read()
for t in ("flow", "netflow", "anomaly", "stats"):
    c.check(f"`{t}`" in eve, f"docs/eve.md describes `{t}` events")
c.done()
