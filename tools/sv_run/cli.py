"""Command line of tools/sv-run: discovery, parallel run, report."""
import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile

from . import engine, runner
from .reqs import Platform

CLAIMED_VERSION = "8.0.0"
TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(TOOLS_DIR)
DEFAULT_CONFIG = os.path.join(TOOLS_DIR, "sv-default.yaml")


def discover(suite_dir):
    """Test names (paths below tests/) of every directory holding test.yaml,
    not descending into a test's own subfolders; sorted."""
    root = os.path.join(suite_dir, "tests")
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        if "test.yaml" in filenames and dirpath != root:
            dirnames[:] = []
            names.append(os.path.relpath(dirpath, root).replace(os.sep, "/"))
        else:
            dirnames.sort()
    return sorted(names)


def read_expect(path):
    names = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def make_srcdir(tmp_root, nightjar, default_config, suite_dir):
    """A stand-in for the Suricata source dir that ${SRCDIR} names:
    src/suricata is the engine, suricata.yaml the default config, and the
    classification/reference files come from the suite's etc/."""
    srcdir = os.path.join(tmp_root, "srcdir")
    os.makedirs(os.path.join(srcdir, "src"))
    os.makedirs(os.path.join(srcdir, "etc"))
    os.symlink(nightjar, os.path.join(srcdir, "src", "suricata"))
    os.symlink(default_config, os.path.join(srcdir, "suricata.yaml"))
    for name in ("classification.config", "reference.config"):
        src = os.path.join(suite_dir, "etc", name)
        if os.path.isfile(src):
            os.symlink(src, os.path.join(srcdir, name))
            os.symlink(src, os.path.join(srcdir, "etc", name))
    return srcdir


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="sv-run",
        description="Run suricata-verify style tests against nightjar.")
    p.add_argument("dir", metavar="DIR",
                   help="suite directory (holds tests/ and etc/)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N")
    p.add_argument("--filter", metavar="REGEX",
                   help="run tests whose name matches (re.search)")
    p.add_argument("--expect", metavar="FILE",
                   help="tests that must PASS; exit 1 otherwise")
    p.add_argument("--write-expect", metavar="FILE",
                   help="write the names of all passing tests to FILE")
    p.add_argument("--nightjar", metavar="PATH",
                   default=os.environ.get("NIGHTJAR",
                                          os.path.join(REPO_DIR, "build",
                                                       "nightjar")),
                   help="engine binary (default $NIGHTJAR or build/nightjar)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECS",
                   help="per engine run and per shell check (default 120)")
    p.add_argument("--keep-output", metavar="DIR",
                   help="write outputs to DIR/<test> and keep them")
    p.add_argument("--default-config", metavar="FILE", default=DEFAULT_CONFIG,
                   help="config for tests without suricata.yaml")
    p.add_argument("--claim-version", default=CLAIMED_VERSION, metavar="VER",
                   help="Suricata version to claim (default %s)"
                   % CLAIMED_VERSION)
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    return args


def main(argv=None):
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("sv-run: interrupted", file=sys.stderr)
        return 130


def _main(argv):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    suite_dir = os.path.abspath(args.dir)
    if not os.path.isdir(os.path.join(suite_dir, "tests")):
        print("sv-run: %s has no tests/ directory" % args.dir, file=sys.stderr)
        return 2
    nightjar = os.path.abspath(args.nightjar)
    if not (os.path.isfile(nightjar) and os.access(nightjar, os.X_OK)):
        print("sv-run: engine not found or not executable: %s" % nightjar,
              file=sys.stderr)
        return 2
    default_config = os.path.abspath(args.default_config)
    try:
        pattern = re.compile(args.filter) if args.filter else None
    except re.error as e:
        print("sv-run: bad --filter: %s" % e, file=sys.stderr)
        return 2
    try:
        expected = read_expect(args.expect) if args.expect else None
    except OSError as e:
        print("sv-run: cannot read --expect file: %s" % e, file=sys.stderr)
        return 2

    info = engine.build_info(nightjar)
    if not info.ok:
        print("sv-run: warning: %s; assuming no features" % info.error,
              file=sys.stderr)
    names = [n for n in discover(suite_dir)
             if pattern is None or pattern.search(n)]

    tmp_root = tempfile.mkdtemp(prefix="sv-run.")
    try:
        plat = Platform(args.claim_version, info.features)
        plat.srcdir = make_srcdir(tmp_root, nightjar, default_config,
                                  suite_dir)
        keep = os.path.abspath(args.keep_output) if args.keep_output else None
        ctx = runner.Context(nightjar, plat, default_config, plat.srcdir,
                             tmp_root, args.timeout, keep)
        results = run_all(ctx, suite_dir, names, args.jobs, args.verbose)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return report(results, names, expected, pattern, args)


def run_all(ctx, suite_dir, names, jobs, verbose):
    """Run the tests; print each line in sorted order as soon as it and all
    before it are known."""
    results = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(runner.run_test, ctx, suite_dir, n)
                   for n in names]
        for fut in futures:
            res = fut.result()
            results.append(res)
            print(res.line(), flush=True)
            if verbose and res.status == runner.FAIL:
                for d in res.details:
                    print("    " + d, flush=True)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        runner.kill_all()
        raise
    pool.shutdown()
    return results


def report(results, names, expected, pattern, args):
    by_status = collections.Counter(r.status for r in results)
    status_of = {r.name: r.status for r in results}
    if args.verbose:
        skips = collections.Counter(r.reason for r in results
                                    if r.status == runner.SKIP)
        if skips:
            print("skip reasons:")
            for reason, n in sorted(skips.items(), key=lambda x: (-x[1], x[0])):
                print("  %5d  %s" % (n, reason))
        dropped = collections.Counter(d for r in results for d in r.dropped)
        if dropped:
            print("dropped engine options:")
            for opt, n in sorted(dropped.items(), key=lambda x: (-x[1], x[0])):
                print("  %5d  %s" % (n, opt))
    if args.write_expect:
        with open(args.write_expect, "w", encoding="utf-8") as f:
            f.write("# Tests that must pass (written by sv-run --write-expect)\n")
            for name in sorted(n for n, s in status_of.items()
                               if s == runner.PASS):
                f.write(name + "\n")
    rc = 0
    if expected is not None:
        for name in expected:
            if pattern is not None and not pattern.search(name):
                continue  # not selected by --filter in this run
            status = status_of.get(name, "missing")
            if status != runner.PASS:
                print("EXPECTED-PASS FAILED: %s (%s)" % (name, status))
                rc = 1
    print("%d passed, %d failed, %d skipped" % (
        by_status[runner.PASS], by_status[runner.FAIL], by_status[runner.SKIP]))
    return rc
