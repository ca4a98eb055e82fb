#!/usr/bin/python3
"""nightjar-fuse restarts without loss or duplicates, and follows growing files.

Generated inputs (no corpus needed): Sysmon EID 1 and EID 3 records in the
raw flat JSON shape and an EVE file of zstd frames with the matching flow
events (a per-host clock offset, some records late). The fusion output of one
--once run over everything is the reference. Then:

1. restart: the inputs are written in two parts; a --once run with a
   checkpoint reads the first part, junk is appended to its output (a crash
   after writing, before checkpointing), the rest of the inputs is appended and
   a second run resumes from the checkpoint. The output must equal the
   reference: nothing lost (joins whose two sides straddle the restart) and
   nothing written twice.
2. follow: nightjar-fuse without --once reads the first part, the rest is
   appended while it runs, SIGTERM stops it; the output must equal the
   reference.
3. socket: the EVE lines arrive over a unix stream socket (-e unix:PATH).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nj  # noqa: E402
from test_fusion import fuse_binary  # noqa: E402

import base64
import hashlib
import socket
import struct

T0 = 1700000000.0
N = 240


def cid(s, d, sp, dp, proto=6):
    a, b = socket.inet_aton(s), socket.inet_aton(d)
    if (a, sp) > (b, dp):
        a, b, sp, dp = b, a, dp, sp
    h = hashlib.sha1(struct.pack("!H", 0) + a + b + bytes([proto, 0]) + struct.pack("!HH", sp, dp)).digest()
    return "1:" + base64.b64encode(h).decode()


def utc(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ".%03d" % int(round((t % 1) * 1000) % 1000)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+0000" % int(round((t % 1) * 1e6) % 1000000)


def generate():
    host, eve = [], []
    rec = 1000
    for i in range(N):
        t = T0 + i * 2.0
        sport = 1024 + (39000 + i) % 64000
        pid = 500 + i % 17
        rec += 1
        host.append((t - 30 if i % 17 == 0 else t, json.dumps({
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "WS9.lab",
            "RecordNumber": rec, "UtcTime": utc(t - 30), "ProcessId": str(pid),
            "ProcessGuid": "{g-%d}" % pid, "Image": "C:\\p%d.exe" % pid, "CommandLine": "p%d -x" % pid,
            "ParentProcessId": "4", "ParentImage": "C:\\parent.exe"})))
        rec += 1
        # Sysmon batches network events: some records show up 20 s late in the file
        at = t + (20 if i % 5 == 0 else 0)
        host.append((at, json.dumps({
            "EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "WS9.lab",
            "RecordNumber": rec, "UtcTime": utc(t), "ProcessId": str(pid), "ProcessGuid": "{g-%d}" % pid,
            "Image": "C:\\p%d.exe" % pid, "Protocol": "tcp", "Initiated": "true",
            "SourceIp": "10.9.0.5", "SourcePort": str(sport), "DestinationIp": "10.9.0.99",
            "DestinationPort": "443"})))
        start = t + 4.25  # the host's clock runs 4.25 s behind the sensor's
        eve.append((start + 8, json.dumps({
            "timestamp": iso(start + 8), "flow_id": 1000 + i, "event_type": "flow", "src_ip": "10.9.0.5",
            "src_port": sport, "dest_ip": "10.9.0.99", "dest_port": 443, "proto": "TCP",
            "community_id": cid("10.9.0.5", "10.9.0.99", sport, 443), "app_proto": "tls",
            "flow": {"start": iso(start), "end": iso(start + 8)}, "tcp": {"syn": True}})))
    host.sort(key=lambda x: x[0])
    eve.sort(key=lambda x: x[0])
    return [h[1] for h in host], [e[1] for e in eve]


def zst_frames(lines):
    """Each chunk of lines as its own zstd frame (as nightjar writes them)."""
    out = b""
    for i in range(0, len(lines), 25):
        data = "".join(line + "\n" for line in lines[i:i + 25]).encode()
        out += subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return out


def write_inputs(d, host, eve, host_n, eve_n, mode="wb"):
    with open(os.path.join(d, "sysmon.json"), mode) as f:
        f.write("".join(line + "\n" for line in host[:host_n]).encode() if mode == "wb"
                else "".join(line + "\n" for line in host[host_n:]).encode())
    with open(os.path.join(d, "eve.json.zst"), mode) as f:
        f.write(zst_frames(eve[:eve_n]) if mode == "wb" else zst_frames(eve[eve_n:]))


def fuse(d, out, once=True, ck=None):
    cmd = [fuse_binary(), "-e", os.path.join(d, "eve.json.zst"), "-i", "sysmon-json:" + os.path.join(d, "sysmon.json"),
           "-o", out]
    if once:
        cmd.append("--once")
    if ck:
        cmd += ["--checkpoint", ck]
    return cmd


def keys(path):
    data = subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, check=True).stdout.decode()
    out = []
    for line in data.splitlines():
        e = json.loads(line)
        out.append((e["endpoint"]["record_id"], e["community_id"], e["join"]["method"],
                    e["network"]["event_type"], e["process"].get("command_line")))
    return sorted(out)


def main():
    if not os.path.exists(fuse_binary()):
        raise SystemExit(f"FAIL: {fuse_binary()} is not built")
    if not shutil.which("zstd"):
        print("SKIP: needs the zstd command")
        sys.exit(nj.SKIP)
    host, eve = generate()
    tmp = tempfile.mkdtemp(prefix="nj-fuse-restart-")
    c = nj.Checks()
    try:
        ref_d = os.path.join(tmp, "ref")
        os.makedirs(ref_d)
        write_inputs(ref_d, host, eve, len(host), len(eve))
        ref_out = os.path.join(ref_d, "out.json.zst")
        subprocess.run(fuse(ref_d, ref_out), check=True, stderr=subprocess.PIPE)
        ref = keys(ref_out)
        c.check(len(ref) == N, f"reference run joins every generated flow ({len(ref)} of {N})")
        c.check(all(k[2] == "community_id" and k[4] for k in ref), "joins carry the process command line")

        # 1. restart from a checkpoint, after a simulated crash between writing and checkpointing
        d = os.path.join(tmp, "restart")
        os.makedirs(d)
        hn, en = len(host) * 2 // 5, len(eve) * 3 // 5
        write_inputs(d, host, eve, hn, en)
        out, ck = os.path.join(d, "out.json.zst"), os.path.join(d, "ck.json")
        subprocess.run(fuse(d, out, ck=ck), check=True, stderr=subprocess.PIPE)
        first = keys(out)
        c.check(0 < len(first) < N, f"first part joins some flows ({len(first)})")
        with open(out, "ab") as f:
            f.write(zst_frames(['{"junk": "written after the checkpoint"}']))
        write_inputs(d, host, eve, hn, en, mode="ab")
        p = subprocess.run(fuse(d, out, ck=ck), check=True, stderr=subprocess.PIPE, text=True)
        got = keys(out)
        c.check(got == ref, f"restart: output equals the reference ({len(got)} vs {len(ref)} joins; "
                f"missing {len(set(ref) - set(got))}, extra {len(got) - len(set(got))})")
        c.check("replay_suppressed=" in p.stderr and "replay_suppressed=0 " not in p.stderr,
                "the restart re-read the held window and suppressed what was already written")

        # 2. follow growing files, then SIGTERM
        d = os.path.join(tmp, "follow")
        os.makedirs(d)
        write_inputs(d, host, eve, hn, en)
        out, ck = os.path.join(d, "out.json.zst"), os.path.join(d, "ck.json")
        proc = subprocess.Popen(fuse(d, out, once=False, ck=ck), stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        write_inputs(d, host, eve, hn, en, mode="ab")
        time.sleep(2.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        c.check(proc.returncode == 0, f"follow mode exits 0 on SIGTERM ({proc.returncode}) {err[-300:]}")
        got = keys(out)
        c.check(got == ref, f"follow: output equals the reference ({len(got)} vs {len(ref)})")
        c.check(json.load(open(ck))["inputs"][0]["read"]["line_no"] == len(eve),
                "the checkpoint records the EVE input read to its end")

        # 3. EVE from a unix stream socket (an EVE writer with filetype unix_stream)
        d = os.path.join(tmp, "sock")
        os.makedirs(d)
        write_inputs(d, host, eve, len(host), len(eve))
        out, sock = os.path.join(d, "out.json.zst"), os.path.join(d, "eve.sock")
        cmd = fuse(d, out)
        cmd[cmd.index("-e") + 1] = "unix:" + sock
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        for line in eve:
            s.sendall((line + "\n").encode())
        s.close()
        _, err = proc.communicate(timeout=60)
        c.check(proc.returncode == 0, f"--once with a socket ends when the writer goes ({proc.returncode}) {err[-300:]}")
        got = keys(out)
        c.check(got == ref, f"socket: output equals the reference ({len(got)} vs {len(ref)})")
        c.check(not os.path.exists(sock), "the socket is removed at exit")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
