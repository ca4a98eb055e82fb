"""Run one suricata-verify test and judge it (FORMAT.md sections 2-4)."""
import glob
import json
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import tempfile
import threading

import yaml

from . import engine
from . import match as m
from .reqs import Malformed, Unsatisfied, check_requires, check_skip, \
    flatten_config, parse_version, version_cmp

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
CHECK_TYPES = ("filter", "stats", "shell", "file-compare")
FILTER_KEYS = {"count", "match", "filename", "requires"}


class TestFailed(Exception):
    """The test fails with this short reason."""


class Result:
    def __init__(self, name, status, reason="", dropped=(), details=()):
        self.name = name
        self.status = status
        self.reason = reason
        self.dropped = list(dropped)
        self.details = list(details)

    def line(self):
        if self.status == PASS:
            return "PASS %s" % self.name
        return "%s %s: %s" % (self.status, self.name, self.reason)


class Context:
    """Everything shared by all tests of one run (read-only once built)."""

    def __init__(self, nightjar, plat, default_config, srcdir, tmp_root,
                 timeout=120.0, keep_output=None):
        self.nightjar = nightjar
        self.plat = plat
        self.default_config = default_config
        self.srcdir = srcdir
        self.tmp_root = tmp_root
        self.timeout = timeout
        self.keep_output = keep_output


# ---------------------------------------------------------------- loading

class _StrictLoader(yaml.SafeLoader):
    """YAML 1.1 safe loader that rejects duplicate keys, like upstream."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            dup = key in seen
        except TypeError:
            continue
        if dup:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path, strict=True):
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        return yaml.load(f, Loader=_StrictLoader if strict else yaml.SafeLoader)


def _one_line(text, limit=120):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_test(test_dir):
    path = os.path.join(test_dir, "test.yaml")
    try:
        cfg = load_yaml(path)
    except yaml.MarkedYAMLError as e:
        where = ("line %d: " % (e.problem_mark.line + 1)) if e.problem_mark else ""
        raise TestFailed("malformed test.yaml: %s%s"
                         % (where, _one_line(e.problem or e.context, 80))) from None
    except (yaml.YAMLError, OSError, UnicodeError) as e:
        raise TestFailed("malformed test.yaml: %s" % _one_line(e, 80)) from None
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise TestFailed("malformed test.yaml: not a map")
    return cfg


# -------------------------------------------------------------- resolving

def _is_min_rules(path):
    """'min8.rules' -> (8, None, None); anything else -> None."""
    mm = re.match(r"^min(\d+(?:\.\d+){0,2})\.rules$", os.path.basename(path))
    return parse_version(mm.group(1)) if mm else None


def resolve_pcap(cfg, test_dir):
    """Returns a path, or None when the test runs without a capture."""
    requires = cfg.get("requires") if isinstance(cfg.get("requires"), dict) else {}
    pcap_required = requires.get("pcap", True)
    if "pcap" in cfg:
        if not cfg["pcap"]:
            return None
        path = os.path.normpath(os.path.join(test_dir, str(cfg["pcap"])))
        if not os.path.isfile(path):
            raise TestFailed("pcap not found: %s" % cfg["pcap"])
        return path
    found = sorted(glob.glob(os.path.join(test_dir, "*.pcap")) +
                   glob.glob(os.path.join(test_dir, "*.pcapng")))
    if len(found) > 1:
        raise TestFailed("more than one pcap file in the test directory")
    if found:
        return found[0]
    if pcap_required and "command" not in cfg:
        raise Unsatisfied("no pcap file found")
    return None


def resolve_rules(cfg, test_dir, plat):
    """Returns the rules file to load, or None (detection off)."""
    if "rules" in cfg:
        if not cfg["rules"]:
            return None
        files = [os.path.normpath(os.path.join(test_dir, str(cfg["rules"])))]
        if not os.path.isfile(files[0]):
            raise TestFailed("rules not found: %s" % cfg["rules"])
    else:
        files = sorted(glob.glob(os.path.join(test_dir, "*.rules")))
    if not files:
        return None
    if len(files) == 2:
        names = sorted(os.path.basename(f) for f in files)
        if names == ["firewall.rules", "td.rules"]:
            raise Unsatisfied("firewall mode (firewall.rules + td.rules)")
        raise TestFailed("two rules files that are not a firewall pair")
    if len(files) > 2:
        raise TestFailed("more than two rules files")
    need = _is_min_rules(files[0])
    if need is not None and version_cmp(plat.version, need) < 0:
        return None
    return files[0]


def resolve_config(test_dir, ctx):
    own = os.path.join(test_dir, "suricata.yaml")
    return own if os.path.isfile(own) else ctx.default_config


def effective_config(config_path, set_args):
    """Flattened config for `skip: config:`; --set values override."""
    try:
        tree = load_yaml(config_path, strict=False)
    except Exception:
        tree = None
    flat = flatten_config(tree) if isinstance(tree, (dict, list)) else {}
    for kv in set_args:
        k, _, v = kv.partition("=")
        flat[k] = v
    return flat


def substitute(text, env):
    return string.Template(str(text)).safe_substitute(env)


def _set_values(tokens):
    return [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t == "--set"]


# ---------------------------------------------------------------- running

_live = set()  # process groups still running, for kill_all()
_live_lock = threading.Lock()


def _killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all():
    """Kill every process group we started and that is still running
    (used when the runner is interrupted)."""
    with _live_lock:
        for pid in list(_live):
            _killpg(pid)


def _run(argv, cwd, env, timeout, stdout, stderr):
    """Run in its own process group; kill the group on timeout.
    Returns the exit status, or None on timeout."""
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=stdout, stderr=stderr, start_new_session=True)
    with _live_lock:
        _live.add(p.pid)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(p.pid)
        p.wait()
        return None
    finally:
        with _live_lock:
            _live.discard(p.pid)


def _shell(cmd, cwd, env, timeout):
    """bash -c in cwd; returns (status or None on timeout, stdout text)."""
    with tempfile.TemporaryFile() as out:
        rc = _run(["bash", "-c", str(cmd)], cwd, env, timeout, out,
                  subprocess.DEVNULL)
        out.seek(0)
        return rc, out.read().decode("utf-8", errors="replace")


def decompress_zst(outdir, names):
    for name in names:
        path = os.path.join(outdir, name)
        if os.path.exists(path) or not os.path.isfile(path + ".zst"):
            continue
        with open(path, "wb") as f:
            subprocess.run(["zstd", "-dcq", path + ".zst"], stdout=f,
                           stderr=subprocess.DEVNULL, check=False)


def _fresh_dir(path):
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


# ----------------------------------------------------------------- checks

class _Events:
    """JSON-lines files of one output directory, parsed once per round."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.cache = {}

    def get(self, name):
        if name not in self.cache:
            self.cache[name] = self._load(name)
        events, err = self.cache[name]
        if err:
            raise TestFailed(err)
        return events

    def _load(self, name):
        path = os.path.join(self.outdir, name)
        if not os.path.isfile(path):
            return None, "%s missing" % name
        events = []
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:
                    return None, "%s line %d is not JSON" % (name, n)
        return events, None


def _describe(match):
    if isinstance(match, dict):
        for k in ("event_type", "alert.signature_id"):
            if k in match:
                return " %s=%s" % (k, match[k])
    return ""


def check_filter(spec, events):
    if not isinstance(spec, dict):
        raise Malformed("filter is not a map")
    extra = set(map(str, spec)) - FILTER_KEYS
    if extra:
        raise Malformed("filter has unknown key %s" % sorted(extra)[0])
    if "count" not in spec or "match" not in spec:
        raise Malformed("filter needs count and match")
    match = spec["match"] if spec["match"] is not None else {}
    if not isinstance(match, dict):
        raise Malformed("filter match is not a map")
    want = spec["count"]
    name = str(spec.get("filename") or "eve.json")
    try:
        got = m.count_matches(events.get(name), match)
    except (m.MatchError, TestFailed) as e:
        raise TestFailed("filter%s: %s" % (_describe(match), e)) from None
    if got != want:
        raise TestFailed("filter%s: %d matched, expected %s"
                         % (_describe(match), got, want))


def check_stats(spec, events):
    stats = None
    try:
        evs = events.get("eve.json")
    except TestFailed as e:
        raise TestFailed("stats: %s" % e) from None
    for ev in evs:
        if isinstance(ev, dict) and ev.get("event_type") == "stats":
            stats = ev.get("stats")
    if stats is None:
        raise TestFailed("stats: no stats event")
    for key, want in spec.items():
        if key == "requires":
            continue
        try:
            ok = m.stats_entry(stats, str(key), want)
        except m.MatchError as e:
            raise TestFailed("stats: %s" % e) from None
        if not ok:
            have = m.lookup(stats, m.split_op(str(key))[0])
            have = "absent" if have is m.ABSENT else json.dumps(have)
            raise TestFailed("stats: %s is %s, expected %s" % (key, have, want))


def check_shell(spec, outdir, env, timeout):
    if not isinstance(spec, dict) or "args" not in spec:
        raise Malformed("shell check needs args")
    rc, out = _shell(spec["args"], outdir, env, timeout)
    cmd = _one_line(spec["args"], 50)
    if rc is None:
        raise TestFailed("shell `%s`: timeout" % cmd)
    if rc != 0:
        raise TestFailed("shell `%s`: exit %d" % (cmd, rc))
    if "expect" in spec:
        got, want = out.strip(), str(spec["expect"])
        if got != want:
            raise TestFailed("shell `%s`: got %r, expected %r"
                             % (cmd, _one_line(got, 40), want))


def check_file_compare(spec, outdir, test_dir):
    if not isinstance(spec, dict) or "filename" not in spec or "expected" not in spec:
        raise Malformed("file-compare needs filename and expected")
    have = os.path.join(outdir, str(spec["filename"]))
    want = os.path.join(test_dir, str(spec["expected"]))
    for p, label in ((have, spec["filename"]), (want, spec["expected"])):
        if not os.path.isfile(p):
            raise TestFailed("file-compare: %s missing" % label)
    with open(have, "rb") as a, open(want, "rb") as b:
        if a.read() != b.read():
            raise TestFailed("file-compare: %s differs" % spec["filename"])


def run_checks(checks, ctx, test_dir, outdir, env):
    """Evaluate every check.  Returns (n_ok, n_skipped, skip_reason,
    first_failure or None)."""
    events = _Events(outdir)
    ok = skipped = 0
    skip_reason, failure = None, None
    for i, item in enumerate(checks, 1):
        if not isinstance(item, dict) or not item:
            failure = failure or "check %d: not a map" % i
            continue
        for kind, spec in item.items():
            try:
                if kind not in CHECK_TYPES:
                    raise Malformed("unknown check type %r" % (kind,))
                if isinstance(spec, dict) and "requires" in spec:
                    check_requires(spec["requires"], ctx.plat)
                if kind == "filter":
                    check_filter(spec, events)
                elif kind == "stats":
                    if not isinstance(spec, dict):
                        raise Malformed("stats is not a map")
                    check_stats(spec, events)
                elif kind == "shell":
                    check_shell(spec, outdir, env, ctx.timeout)
                else:
                    check_file_compare(spec, outdir, test_dir)
                ok += 1
            except Unsatisfied as e:
                skipped += 1
                skip_reason = skip_reason or str(e)
            except (TestFailed, Malformed) as e:
                failure = failure or "check %d %s" % (i, e)
    return ok, skipped, skip_reason, failure


# ------------------------------------------------------------------- test

def _int_key(cfg, key, default, kind):
    v = cfg.get(key, default)
    if v is None:
        return default
    if not isinstance(v, kind) or isinstance(v, bool):
        raise TestFailed("malformed test.yaml: %s is not %s"
                         % (key, kind.__name__))
    return v


def _output_dir(ctx, name):
    if ctx.keep_output:
        return os.path.join(ctx.keep_output, name)
    return tempfile.mkdtemp(prefix=re.sub(r"[^\w.-]", "_", name) + ".",
                            dir=ctx.tmp_root)


def run_test(ctx, suite_dir, name):
    """Never raises: every problem is a FAIL or SKIP result."""
    state = {"dropped": [], "details": []}
    outdir = None
    try:
        outdir = _output_dir(ctx, name)
        status, reason = _run_test(ctx, suite_dir, name, outdir, state)
    except Unsatisfied as e:
        status, reason = SKIP, str(e)
    except (TestFailed, Malformed) as e:
        status, reason = FAIL, str(e)
    except Exception as e:  # a runner bug must not stop the run
        status, reason = FAIL, "runner error: %s: %s" % (type(e).__name__,
                                                         _one_line(e, 80))
    finally:
        if outdir and not ctx.keep_output:
            shutil.rmtree(outdir, ignore_errors=True)
    return Result(name, status, reason, state["dropped"], state["details"])


def _run_test(ctx, suite_dir, name, outdir, state):
    test_dir = os.path.join(suite_dir, "tests", name)
    cfg = load_test(test_dir)
    plat = ctx.plat
    try:
        check_requires(cfg.get("requires"), plat)
    except Malformed as e:
        raise TestFailed("malformed test.yaml: %s" % e) from None

    env = dict(os.environ)
    env.update({"TZ": "UTC", "SRCDIR": ctx.srcdir, "TEST_DIR": test_dir,
                "OUTPUT_DIR": outdir})
    test_env = cfg.get("env") or {}
    if not isinstance(test_env, dict):
        raise TestFailed("malformed test.yaml: env is not a map")
    env.update({str(k): "" if v is None else str(v) for k, v in test_env.items()})

    config = resolve_config(test_dir, ctx)
    raw_args = cfg.get("args") or []
    if isinstance(raw_args, str):
        raw_args = [raw_args]
    if not isinstance(raw_args, list):
        raise TestFailed("malformed test.yaml: args is not a list")
    tokens = [substitute(t, env) for t in engine.split_args(raw_args)]
    passed, dropped = engine.map_args(tokens)
    state["dropped"] = dropped
    try:
        check_skip(cfg.get("skip"), plat,
                   effective_config(config, _set_values(passed)))
    except Malformed as e:
        raise TestFailed("malformed test.yaml: %s" % e) from None

    if "command" in cfg:
        cmd = substitute(cfg["command"], env)
        lead = re.match(r"^(\s*)(\S+)", cmd)
        if lead and os.path.basename(lead.group(2)) == "suricata":
            cmd = lead.group(1) + shlex.quote(ctx.nightjar) + cmd[lead.end():]
        argv = ["bash", "-c", cmd]
    else:
        pcap = resolve_pcap(cfg, test_dir)
        rules = resolve_rules(cfg, test_dir, plat)
        argv = [ctx.nightjar]
        if pcap:
            argv += ["-r", pcap]
        # as upstream run.py: a start-up error (a rule that fails) is fatal
        argv += ["-l", outdir, "-c", config, "--init-errors-fatal"]
        if config == ctx.default_config:
            # the engine's standard classification/reference files, as
            # Suricata's default configuration names them (the suite's etc/)
            for key, fname in (("classification-file", "classification.config"),
                               ("reference-config-file", "reference.config")):
                path = os.path.join(ctx.srcdir, fname)
                if os.path.isfile(path):
                    argv += ["--set", "%s=%s" % (key, path)]
        if rules:
            argv += ["-S", rules]
        argv += passed
        if not pcap and rules and "-T" not in passed \
                and "--engine-analysis" not in passed:
            argv.append("-T")
    state["details"].append("cmd: " + " ".join(shlex.quote(a) for a in argv))

    count = _int_key(cfg, "count", 1, int)
    attempts = max(1, _int_key(cfg, "retry", 1, int))
    want_rc = _int_key(cfg, "exit-code", 0, int)
    checks = cfg.get("checks") or []
    if not isinstance(checks, list):
        raise TestFailed("malformed test.yaml: checks is not a list")
    zst_names = {"eve.json"}
    for item in checks:
        if isinstance(item, dict) and isinstance(item.get("filter"), dict):
            fn = item["filter"].get("filename")
            if fn:
                zst_names.add(str(fn))

    status, reason = FAIL, "not run"
    for _ in range(attempts):
        status, reason = _attempt(ctx, argv, cfg, test_dir, outdir, env,
                                  count, want_rc, checks, zst_names, state)
        if status != FAIL:
            break
    return status, reason


def _attempt(ctx, argv, cfg, test_dir, outdir, env, count, want_rc, checks,
             zst_names, state):
    any_ok, all_skip_reason = False, None
    for _ in range(max(1, count)):
        _fresh_dir(outdir)
        with open(os.path.join(outdir, "cmdline"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in argv) + "\n")
        with open(os.path.join(outdir, "stdout"), "wb") as so, \
                open(os.path.join(outdir, "stderr"), "wb") as se:
            rc = _run(argv, outdir, env, ctx.timeout, so, se)
        if rc is None:
            return FAIL, "timeout (%gs)" % ctx.timeout
        if rc < 0 and want_rc >= 0:
            _stderr_tail(outdir, state)
            return FAIL, "crashed (signal %d)" % -rc
        if rc != want_rc:
            _stderr_tail(outdir, state)
            return FAIL, "exit code %d, expected %d" % (rc, want_rc)
        decompress_zst(outdir, zst_names)
        if cfg.get("pre-check"):
            _shell(cfg["pre-check"], outdir, env, ctx.timeout)
        ok, skipped, skip_reason, failure = run_checks(checks, ctx, test_dir,
                                                       outdir, env)
        if failure:
            return FAIL, failure
        if ok or not checks:
            any_ok = True
        else:
            all_skip_reason = skip_reason
    if not any_ok and checks:
        return SKIP, "all checks skipped (%s)" % all_skip_reason
    return PASS, ""


def _stderr_tail(outdir, state, n=5):
    try:
        with open(os.path.join(outdir, "stderr"), "r", errors="replace") as f:
            lines = f.read().splitlines()[-n:]
    except OSError:
        return
    state["details"].extend("stderr: " + _one_line(l, 200) for l in lines)
