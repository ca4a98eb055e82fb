#!/usr/bin/python3
"""Self-test of tools/sv-run.

Builds a small suricata-verify tree in a temp dir, runs sv-run against a
fake engine (fake_nightjar.py) and checks the exact report; also unit-tests
the match semantics by importing tools/sv_run directly.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
TOOLS = os.path.normpath(os.path.join(HERE, "..", "..", "tools"))
SV_RUN = os.path.join(TOOLS, "sv-run")
FAKE = os.path.join(HERE, "fake_nightjar.py")
PY = "/usr/bin/python3"
sys.path.insert(0, TOOLS)

from sv_run import engine, match as m, reqs  # noqa: E402

# name -> {file: content}; ".pcap" files are empty placeholders (the fake
# engine only looks at their names).
TREE = {
    "args-mapping": {
        "input.pcap": "",
        "test.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            args:
              - -k none --set stream.midstream=true --runmode=single -v
              - --runmode single --data-dir=${OUTPUT_DIR}
            env:
              FOO: 2
            checks:
              - filter:
                  count: 1
                  match:
                    event_type: argv
                    argv[0]: -r
                    argv.__contains: --set
                    argv.__len: 16  # -r -l -c --init-errors-fatal --set classification-file -S + mapped args
                    env.TZ: UTC
                    env.FOO: "2"
                    config: sv-default.yaml
                    rules: test.rules
                    cwd_is_outdir: true
              - filter:
                  count: 0
                  match:
                    event_type: argv
                    argv.__contains: --runmode=single
              - filter:
                  count: 0
                  match:
                    event_type: argv
                    argv.__contains: single
              - shell:
                  args: grep -c -- "-k none --set stream.midstream=true --data-dir=$OUTPUT_DIR\\$" cmdline
                  expect: 1
        """,
    },
    "checks-all": {
        "input.pcap": "",
        "test.rules": "alert ip any any -> any any (sid:1;)\n",
        "expected/datasets.csv": "a,b\n",
        "test.yaml": """
            requires:
              min-version: 7
              os: linux
              features:
                - HAVE_JA3
            checks:
              - filter:
                  count: 1
                  match:
                    event_type: alert
                    alert.signature_id: 1
                    alert.severity: 3.0
                    ratio: 2
                    flag: true
                    nullfield: null
                    nosuchfield: ~
                    alert.metadata.tag[1]: b
                    alert.metadata.tag: [a, b, c]
                    http: {hostname: example.com, url: /index.html, status: 200}
                    has-key: alert.signature
                    not-has-key:
                      - nullfield
                      - nosuchfield
                      - alert.metadata.tag[3]
                    alert.metadata.tag.__len: 3
                    alert.signature.__len: 8
                    src_port.__len: -1
                    alert.signature.__find: "T on"
                    alert.metadata.tag.__contains: c
                    http.url.__contains: index
                    alert.signature.__startswith: TEST
                    alert.signature.__endswith: one
                    pcap_cnt.__gt: 2
                    pcap_cnt.__gte: 3
                    pcap_cnt.__lt: 4
                    pcap_cnt.__lte: 3
              - filter:
                  count: 1
                  match:
                    dns.answers[1].rdata: 5.6.7.8
                    event_type: dns
                    dns.flags: "8180"
              - filter:
                  count: 0
                  match:
                    dns.flags: 8180
              - filter:
                  count: 1
                  match:
                    pcap_cnt.__gt: 2.5
                    event_type: alert
              - filter:
                  count: 0
                  match:
                    flag.__gt: 0
              - filter:
                  count: 6
                  match:
                    dns.answers[7].rdata: null
              - stats:
                  decoder.pkts: 42
                  decoder.bytes.__gte: 4096
                  decoder.bytes.__lt: 5000
              - filter:
                  count: 2
                  match:
                    event_type: stats
              - shell:
                  args: grep -c "TEST one" fast.log
                  expect: 1
              - shell:
                  args: echo "  yes  "
                  expect: "yes"
              - shell:
                  args: echo True
                  expect: true
              - shell:
                  args: test -e eve.json && test "$TZ" = UTC && test "$PWD" = "$OUTPUT_DIR"
              - file-compare:
                  filename: datasets.csv
                  expected: expected/datasets.csv
        """,
    },
    "command-rules": {
        "test.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            command: |
              ${SRCDIR}/src/suricata -T -l ${OUTPUT_DIR} -c ${SRCDIR}/suricata.yaml \\
                -S ${TEST_DIR}/test.rules --set x=1
            checks:
              - filter:
                  count: 1
                  match:
                    event_type: argv
                    argv0: fake_nightjar.py
                    argv[0]: -T
                    config: suricata.yaml
                    rules: test.rules
        """,
    },
    "count-runs": {
        "input.pcap": "",
        "test.yaml": """
            count: 3
            checks:
              - filter: {count: 1, match: {event_type: flow}}
        """,
    },
    "crash": {"crash.pcap": "", "test.yaml": "checks: []\n"},
    "exit-code-1": {"exit1.pcap": "", "test.yaml": "exit-code: 1\n"},
    "exit-code-wrong": {
        "exit1.pcap": "",
        "test.yaml": "checks:\n  - filter: {count: 1, match: {event_type: flow}}\n",
    },
    "fail-count": {
        "input.pcap": "",
        "test.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            checks:
              - filter: {count: 1, match: {event_type: flow}}
              - filter: {count: 5, match: {event_type: alert}}
              - filter: {count: 7, match: {event_type: dns}}
        """,
    },
    "fail-filter-key": {
        "input.pcap": "",
        "test.yaml": "checks:\n  - filter: {count: 1, match: {}, bogus: 1}\n",
    },
    "fail-shell": {
        "input.pcap": "",
        "test.yaml": """
            checks:
              - shell: {args: "grep -c nothing fast.log", expect: 1}
        """,
    },
    "fail-stats": {
        "input.pcap": "",
        "test.yaml": "checks:\n  - stats: {decoder.pkts: 10}\n",
    },
    "fail-string-op-absent": {
        "input.pcap": "",
        "test.yaml": """
            checks:
              - filter:
                  count: 0
                  match:
                    event_type: flow
                    nope.__find: x
        """,
    },
    "malformed-dup": {
        "input.pcap": "",
        "test.yaml": "pcap: input.pcap\npcap: input.pcap\n",
    },
    "malformed-yaml": {
        "input.pcap": "",
        "test.yaml": "checks:\n  - filter: [unclosed\n",
    },
    "min-rules/min8": {
        "input.pcap": "",
        "min8.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            checks:
              - filter: {count: 1, match: {event_type: alert}}
              - filter: {count: 1, match: {event_type: argv, rules: min8.rules}}
        """,
    },
    "min-rules/min9": {
        "input.pcap": "",
        "min9.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            checks:
              - filter: {count: 0, match: {event_type: alert}}
              - filter: {count: 1, match: {event_type: argv, rules: null}}
        """,
    },
    "missing-pcap": {
        "test.yaml": "pcap: ../nowhere/input.pcap\n",
    },
    "no-checks": {"input.pcap": "", "test.yaml": "args: [-k none]\n"},
    "no-pcap": {"test.yaml": "checks: []\n"},
    "pair/v7-pre8": {
        "input.pcap": "",
        "test.yaml": "requires: {lt-version: 8}\n",
    },
    "pair/v8": {
        "test.yaml": """
            requires: {min-version: 8}
            pcap: ../v7-pre8/input.pcap
            checks:
              - filter: {count: 1, match: {event_type: flow}}
              - filter:
                  requires: {lt-version: 8}
                  count: 99
                  match: {event_type: flow}
        """,
        "expected/test.yaml": "this: is not a test: [\n",
    },
    "pcap-false": {
        "test.rules": "alert ip any any -> any any (sid:1;)\n",
        "test.yaml": """
            pcap: false
            checks:
              - filter:
                  count: 1
                  match: {has-key: argv, argv.__contains: -T, not-has-key: x}
              - filter: {count: 0, match: {event_type: argv, argv.__contains: -r}}
        """,
    },
    "pre-check": {
        "zst.pcap": "",
        "test.yaml": """
            pre-check: cp eve.json copy.json && rm eve.json.zst
            checks:
              - filter: {count: 1, filename: copy.json, match: {event_type: flow}}
              - shell: {args: "ls", expect: "cmdline\\ncopy.json\\ndatasets.csv\\neve.json\\nfast.log\\nstderr\\nstdout"}
        """,
    },
    "retry": {
        "retry.pcap": "",
        "test.yaml": """
            retry: 3
            checks:
              - filter: {count: 1, match: {event_type: flow}}
        """,
    },
    "skip-all-checks": {
        "input.pcap": "",
        "test.yaml": """
            checks:
              - filter:
                  requires: {min-version: 9}
                  count: 1
                  match: {event_type: flow}
              - shell:
                  requires: {features: [MAGIC]}
                  args: "false"
        """,
    },
    "skip-config": {
        "input.pcap": "",
        "suricata.yaml": "%YAML 1.1\n---\nstream:\n  inline: no\n",
        "test.yaml": """
            args: [--set stream.midstream=true]
            skip:
              - config: {"stream\\\\.midstream": true}
        """,
    },
    "skip-feature": {
        "input.pcap": "",
        "test.yaml": """
            skip:
              - feature: HAVE_LUA
              - feature: HAVE_JA3
                msg: no ja3 here
        """,
    },
    "skip-min9": {"input.pcap": "", "test.yaml": "requires: {min-version: 9}\n"},
    "skip-needs-feature": {
        "input.pcap": "",
        "test.yaml": "requires: {features: [HAVE_JA3, MAGIC]}\n",
    },
    "skip-true": {"input.pcap": "", "test.yaml": "skip: true\n"},
    "timeout": {"sleep.pcap": "", "test.yaml": "checks: []\n"},
    "two-pcaps": {"a.pcap": "", "b.pcapng": "", "test.yaml": "checks: []\n"},
    "version-eq": {
        "input.pcap": "",
        "own-config-check": "",
        "suricata.yaml": "%YAML 1.1\n---\n",
        "test.yaml": """
            requires: {version: 8.0, gt-version: 7.0.99}
            checks:
              - filter: {count: 1, match: {event_type: argv, config: suricata.yaml}}
              - filter:
                  requires: {version: 8.1}
                  count: 1
                  match: {event_type: nothing}
        """,
    },
    "zst": {
        "zst.pcap": "",
        "test.yaml": """
            checks:
              - filter: {count: 1, match: {event_type: dns}}
              - shell: {args: "test -e eve.json.zst"}
        """,
    },
}

EXPECTED_LINES = [
    "PASS args-mapping",
    "PASS checks-all",
    "PASS command-rules",
    "PASS count-runs",
    "FAIL crash: crashed (signal 11)",
    "PASS exit-code-1",
    "FAIL exit-code-wrong: exit code 1, expected 0",
    "FAIL fail-count: check 2 filter event_type=alert: 1 matched, expected 5",
    "FAIL fail-filter-key: check 1 filter has unknown key bogus",
    "FAIL fail-shell: check 1 shell `grep -c nothing fast.log`: exit 1",
    "FAIL fail-stats: check 1 stats: decoder.pkts is 42, expected 10",
    "FAIL fail-string-op-absent: check 1 filter event_type=flow: "
    "nope.__find: path absent",
    "FAIL malformed-dup: malformed test.yaml: line 2: duplicate key 'pcap'",
    None,  # malformed-yaml: the PyYAML wording may vary; prefix only
    "PASS min-rules/min8",
    "PASS min-rules/min9",
    "FAIL missing-pcap: pcap not found: ../nowhere/input.pcap",
    "PASS no-checks",
    "SKIP no-pcap: no pcap file found",
    "SKIP pair/v7-pre8: requires lt-version 8",
    "PASS pair/v8",
    "PASS pcap-false",
    "PASS pre-check",
    "PASS retry",
    "SKIP skip-all-checks: all checks skipped (requires min-version 9)",
    "SKIP skip-config: not for stream.midstream = True",
    "SKIP skip-feature: no ja3 here",
    "SKIP skip-min9: requires min-version 9",
    "SKIP skip-needs-feature: requires feature MAGIC",
    "SKIP skip-true: skipped by default",
    "FAIL timeout: timeout (3s)",
    "FAIL two-pcaps: more than one pcap file in the test directory",
    "PASS version-eq",
    "PASS zst",
]
EXPECTED_LINES.append("%d passed, %d failed, %d skipped" % tuple(
    sum(1 for l in EXPECTED_LINES if (l or "FAIL").startswith(s))
    for s in ("PASS", "FAIL", "SKIP")))
MALFORMED_YAML_PREFIX = "FAIL malformed-yaml: malformed test.yaml: line 3: "
PASSING = sorted(l.split()[1] for l in EXPECTED_LINES if l and l.startswith("PASS"))


def build_tree(root):
    for name, files in TREE.items():
        for fname, content in files.items():
            path = os.path.join(root, "tests", name, fname)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(textwrap.dedent(content).lstrip("\n"))
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "classification.config"), "w") as f:
        f.write("config classification: misc-activity,Misc activity,3\n")
    # A capture directory without test.yaml is not a test.
    os.makedirs(os.path.join(root, "tests", "capture-only"))
    open(os.path.join(root, "tests", "capture-only", "x.pcap"), "w").close()


class SvRunTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sv-selftest.")
        cls.suite = os.path.join(cls.tmp, "suite")
        build_tree(cls.suite)
        # The engine must be executable whatever mode the checkout gave it.
        cls.fake = os.path.join(cls.tmp, "fake_nightjar.py")
        shutil.copy(FAKE, cls.fake)
        os.chmod(cls.fake, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sv_run(self, *args):
        state = tempfile.mkdtemp(dir=self.tmp)
        env = dict(os.environ, SV_FAKE_STATE=state)
        p = subprocess.run([PY, SV_RUN, "--nightjar", self.fake, "--timeout", "3"]
                           + list(args) + [self.suite],
                           capture_output=True, text=True, env=env,
                           timeout=240)
        self.assertNotIn("Traceback", p.stderr)
        return p, state

    def assert_report(self, stdout):
        lines = stdout.splitlines()
        self.assertEqual(len(lines), len(EXPECTED_LINES), stdout)
        for got, want in zip(lines, EXPECTED_LINES):
            if want is None:
                self.assertTrue(got.startswith(MALFORMED_YAML_PREFIX), got)
            else:
                self.assertEqual(got, want)

    def counter(self, state, test):
        with open(os.path.join(state, test + ".count")) as f:
            return len(f.readlines())

    def test_serial_report(self):
        p, state = self.sv_run()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_report(p.stdout)
        self.assertEqual(self.counter(state, "count-runs"), 3)
        self.assertEqual(self.counter(state, "retry"), 3)

    def test_parallel_same_order(self):
        p, _ = self.sv_run("--jobs", "6")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_report(p.stdout)

    def test_filter(self):
        p, _ = self.sv_run("--filter", "^(pair/|skip-t)")
        self.assertEqual(p.stdout.splitlines(), [
            "SKIP pair/v7-pre8: requires lt-version 8",
            "PASS pair/v8",
            "SKIP skip-true: skipped by default",
            "1 passed, 0 failed, 2 skipped",
        ])

    def test_expect_ok_and_write(self):
        exp = os.path.join(self.tmp, "ok.txt")
        with open(exp, "w") as f:
            f.write("# comment\n\nzst  # trailing\npair/v8\n")
        written = os.path.join(self.tmp, "written.txt")
        p, _ = self.sv_run("--expect", exp, "--write-expect", written,
                           "--filter", "^(pair|zst|no-pcap)")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(p.stdout.splitlines()[-1],
                         "2 passed, 0 failed, 2 skipped")
        with open(written) as f:
            names = [l.strip() for l in f if not l.startswith("#")]
        self.assertEqual(names, ["pair/v8", "zst"])

    def test_expect_fail(self):
        exp = os.path.join(self.tmp, "bad.txt")
        with open(exp, "w") as f:
            f.write("pair/v8\nfail-count\nskip-true\nno-such-test\n")
        p, _ = self.sv_run("--expect", exp, "--filter", "^(pair|fail-count|skip-true|no-such)")
        self.assertEqual(p.returncode, 1)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[-4:], [
            "EXPECTED-PASS FAILED: fail-count (FAIL)",
            "EXPECTED-PASS FAILED: skip-true (SKIP)",
            "EXPECTED-PASS FAILED: no-such-test (missing)",
            "1 passed, 1 failed, 2 skipped",
        ])

    def test_keep_output_and_verbose(self):
        keep = os.path.join(self.tmp, "keep")
        p, _ = self.sv_run("--keep-output", keep, "--verbose",
                           "--filter", "^(args-mapping|skip-min9|fail-count)$")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(os.path.isfile(os.path.join(keep, "args-mapping", "eve.json")))
        self.assertTrue(os.path.isfile(os.path.join(keep, "fail-count", "stderr")))
        out = p.stdout
        self.assertIn("skip reasons:", out)
        self.assertIn("requires min-version 9", out)
        self.assertIn("dropped engine options:", out)
        self.assertIn("--runmode single", out)
        self.assertIn("    cmd: ", out)
        self.assertEqual(out.splitlines()[-1], "1 passed, 1 failed, 1 skipped")

    def test_bad_engine(self):
        p = subprocess.run([PY, SV_RUN, "--nightjar", "/nonexistent/nj",
                            self.suite], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)


class MatchSemantics(unittest.TestCase):
    EV = {"a": {"b": [1, {"c": "xyz"}], "n": None, "s": "hello", "f": 2.0,
                "t": True, "d": {"k": 1}}, "num": 5}

    def ok(self, key, expected):
        return m.match_entry(self.EV, key, expected)

    def test_lookup(self):
        self.assertEqual(m.lookup(self.EV, "a.b[1].c"), "xyz")
        self.assertIs(m.lookup(self.EV, "a.b[2]"), m.ABSENT)
        self.assertIs(m.lookup(self.EV, "a.s[0]"), m.ABSENT)
        self.assertIs(m.lookup(self.EV, "a.s.x"), m.ABSENT)
        self.assertIs(m.lookup(self.EV, "num.x"), m.ABSENT)
        self.assertIsNone(m.lookup(self.EV, "a.n"))

    def test_equality(self):
        self.assertTrue(self.ok("a.f", 2))
        self.assertTrue(self.ok("num", 5.0))
        self.assertFalse(self.ok("num", "5"))
        self.assertTrue(self.ok("a.t", 1))          # Python: True == 1
        self.assertTrue(self.ok("a.n", None))
        self.assertTrue(self.ok("missing.x", None))
        self.assertFalse(self.ok("a.s", None))
        self.assertTrue(self.ok("a.d", {"k": 1}))
        self.assertFalse(self.ok("a.d", {}))
        self.assertFalse(self.ok("a.b", [1]))
        self.assertTrue(self.ok("a.b", [1, {"c": "xyz"}]))

    def test_keys(self):
        self.assertTrue(self.ok("has-key", "a.s"))
        self.assertFalse(self.ok("has-key", "a.n"))
        self.assertFalse(self.ok("has-key", ["a.s", "zz"]))
        self.assertTrue(self.ok("not-has-key", ["a.n", "zz", "a.b[5]"]))
        self.assertFalse(self.ok("not-has-key", "a"))

    def test_len(self):
        self.assertTrue(self.ok("a.b.__len", 2))
        self.assertTrue(self.ok("a.s.__len", 5))
        self.assertTrue(self.ok("a.d.__len", 1))
        self.assertTrue(self.ok("num.__len", -1))
        self.assertFalse(self.ok("zz.__len", 0))
        self.assertTrue(self.ok("zz.__len", None))
        self.assertTrue(self.ok("a.b.__len.__gt", 1))

    def test_string_ops(self):
        self.assertTrue(self.ok("a.s.__find", "ell"))
        self.assertFalse(self.ok("a.s.__find", "z"))
        self.assertTrue(self.ok("a.s.__contains", "ll"))
        self.assertTrue(self.ok("a.b.__contains", 1))
        self.assertFalse(self.ok("a.b.__contains", 3))
        self.assertTrue(self.ok("a.s.__startswith", "he"))
        self.assertTrue(self.ok("a.s.__endswith", "lo"))
        self.assertFalse(self.ok("a.s.__endswith", "he"))
        for key in ("zz.__find", "zz.__contains", "zz.__startswith",
                    "zz.__endswith", "a.n.__find", "num.__startswith"):
            with self.assertRaises(m.MatchError, msg=key):
                self.ok(key, "x")

    def test_compare(self):
        self.assertTrue(self.ok("num.__gt", 4))
        self.assertFalse(self.ok("num.__gt", 5))
        self.assertTrue(self.ok("num.__gte", 5.0))
        self.assertTrue(self.ok("a.f.__lt", 3))
        self.assertTrue(self.ok("a.f.__lte", 2))
        self.assertFalse(self.ok("a.t.__gt", 0))     # boolean side
        self.assertFalse(self.ok("num.__gt", False))
        self.assertFalse(self.ok("a.s.__gt", 0))     # not a number
        self.assertFalse(self.ok("zz.__lt", 10))     # absent: false, no error

    def test_match_event_short_circuit(self):
        # The absent-path error is only raised for events passing earlier keys.
        match = {"num": 6, "zz.__find": "x"}
        self.assertFalse(m.match_event(self.EV, match))
        with self.assertRaises(m.MatchError):
            m.match_event(self.EV, {"num": 5, "zz.__find": "x"})
        self.assertEqual(m.count_matches([self.EV, {"num": 5}], {"num": 5}), 2)

    def test_stats(self):
        stats = {"decoder": {"pkts": 3}}
        self.assertTrue(m.stats_entry(stats, "decoder.pkts", 3))
        self.assertTrue(m.stats_entry(stats, "decoder.pkts.__gt", 2))
        self.assertFalse(m.stats_entry(stats, "decoder.nope", 0))


class Requirements(unittest.TestCase):
    def test_versions(self):
        p = reqs.Platform("8.0.0", ["HAVE_JA3"])
        ok = lambda r: reqs.check_requires(r, p)  # noqa: E731
        for r in ({"min-version": 8}, {"min-version": "8.0.0"},
                  {"min-version": 7.0}, {"lt-version": "8.0.1"},
                  {"gt-version": "7.0.99"}, {"version": 8},
                  {"version": 8.0}, {"version": "8.0.0"},
                  {"features": ["HAVE_JA3"]}, {"os": "Linux"}, {"pcap": False}):
            ok(r)
        for r in ({"min-version": 9}, {"min-version": "8.0.1"},
                  {"lt-version": 8}, {"gt-version": "8"}, {"version": 7},
                  {"version": "8.1"}, {"features": ["MAGIC"]},
                  {"os": "windows"}, {"env": ["SV_SURELY_UNSET_VAR"]},
                  {"files": ["src/detect-ipaddr.c"]}):
            with self.assertRaises(reqs.Unsatisfied, msg=str(r)):
                ok(r)
        with self.assertRaises(reqs.Malformed):
            ok({"flavour": 1})

    def test_args_mapping(self):
        toks = engine.split_args(["-k none --set a.b=1", "--runmode single -vv",
                                  "--set=c=2 --data-dir X --simulate-ips -T",
                                  "--engine-analysis --data-dir=Y"])
        passed, dropped = engine.map_args(toks)
        self.assertEqual(passed, ["-k", "none", "--set", "a.b=1", "--set", "c=2",
                                  "--data-dir", "X", "-T", "--engine-analysis",
                                  "--data-dir=Y"])
        self.assertEqual(dropped, ["--runmode single", "-vv", "--simulate-ips"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
