"""What is on the wire of a pcapgen capture, read independently of pcapgen.

Used by check_endpoint.py to hold pcapgen's endpoint events against the
capture: the flows (first packet, initiator tuple, Community ID v1), the DNS
names asked, and the SHA-256 of every HTTP download body and SMB2 READ file.
Only what pcapgen writes is handled (classic pcap, Ethernet, IPv4/IPv6,
TCP/UDP, in-order or reordered TCP without overlaps that change bytes).
"""
import base64
import hashlib
import ipaddress
import socket
import struct

TCP, UDP = 6, 17


def community_id(proto, saddr, sport, daddr, dport, seed=0):
    """Community ID v1 (corelight/community-id-spec) of a TCP/UDP 5-tuple."""
    s = socket.inet_pton(socket.AF_INET6 if ":" in saddr else socket.AF_INET, saddr)
    d = socket.inet_pton(socket.AF_INET6 if ":" in daddr else socket.AF_INET, daddr)
    if (s, sport) > (d, dport):
        s, d, sport, dport = d, s, dport, sport
    data = struct.pack("!H", seed) + s + d + struct.pack("!BBHH", proto, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def _packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", hdr[:4])[0]
        div = 1e9 if magic == 0xA1B23C4D else 1e6
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", rec)
            yield sec + frac / div, f.read(incl)


class Stream:
    """One TCP direction, reassembled by sequence number."""

    def __init__(self):
        self.isn = None
        self.segs = {}

    def add(self, seq, data):
        if data:
            self.segs.setdefault(seq, data)

    def bytes(self):
        if self.isn is None:
            return b""
        out = bytearray()
        nxt = (self.isn + 1) & 0xFFFFFFFF
        segs = dict(self.segs)
        while True:
            d = segs.pop(nxt, None)
            if d is None:
                # a retransmission starting before nxt that reaches past it
                for s, v in list(segs.items()):
                    off = (nxt - s) & 0xFFFFFFFF
                    if off < len(v):
                        d = v[off:]
                        segs.pop(s)
                        break
                    if off < 0x80000000:
                        segs.pop(s)
                if d is None:
                    return bytes(out)
            out += d
            nxt = (nxt + len(d)) & 0xFFFFFFFF


class Wire:
    def __init__(self, path):
        self.flows = {}  # (proto, src, sport, dst, dport) initiator tuple -> first ts
        self.cids = {}  # community id -> initiator tuple
        self.queries = set()  # DNS names asked
        self.downloads = {}  # sha256 -> (tuple, url) for HTTP /downloads/ bodies
        self.http_bodies = set()  # sha256 of every HTTP body
        self.smb_files = {}  # sha256 -> tuple for SMB2 READ data
        streams = {}
        for ts, pkt in _packets(path):
            self._packet(ts, pkt, streams)
        for key, (c2s, s2c) in streams.items():
            if key[4] == 80:
                self._http(key, c2s.bytes(), s2c.bytes())
            elif key[4] == 445:
                self._smb(key, s2c.bytes())
            elif key[4] == 53:
                self._dns_tcp(c2s.bytes())

    def _packet(self, ts, pkt, streams):
        if len(pkt) < 14:
            return
        et = struct.unpack("!H", pkt[12:14])[0]
        ip = pkt[14:]
        if et == 0x0800:
            ihl = (ip[0] & 15) * 4
            proto = ip[9]
            src = str(ipaddress.IPv4Address(ip[12:16]))
            dst = str(ipaddress.IPv4Address(ip[16:20]))
            tot = struct.unpack("!H", ip[2:4])[0]
            l4 = ip[ihl:tot]
        elif et == 0x86DD:
            proto = ip[6]
            src = str(ipaddress.IPv6Address(ip[8:24]))
            dst = str(ipaddress.IPv6Address(ip[24:40]))
            l4 = ip[40 : 40 + struct.unpack("!H", ip[4:6])[0]]
        else:
            return
        if proto not in (TCP, UDP) or len(l4) < 8:
            return
        sport, dport = struct.unpack("!HH", l4[:4])
        fwd = (proto, src, sport, dst, dport)
        rev = (proto, dst, dport, src, sport)
        if proto == UDP:
            if fwd not in self.flows and rev not in self.flows:
                self.flows[fwd] = ts
                self.cids[community_id(proto, src, sport, dst, dport)] = fwd
            if dport == 53:
                self._dns(l4[8:])
            return
        seq = struct.unpack("!I", l4[4:8])[0]
        off = (l4[12] >> 4) * 4
        flags = l4[13]
        data = l4[off:]
        if flags & 0x02 and not flags & 0x10:  # SYN
            if fwd not in self.flows:
                self.flows[fwd] = ts
                self.cids[community_id(proto, src, sport, dst, dport)] = fwd
                streams[fwd] = (Stream(), Stream())
            streams[fwd][0].isn = seq
            return
        if fwd in streams:
            st = streams[fwd][0]
        elif rev in streams:
            st = streams[rev][1]
        else:
            return
        if flags & 0x02:
            st.isn = seq
            return
        st.add(seq, data)

    @staticmethod
    def _name(msg, off):
        labels = []
        while off < len(msg):
            n = msg[off]
            if n == 0:
                break
            if n >= 0xC0:
                break
            labels.append(msg[off + 1 : off + 1 + n].decode("ascii", "replace"))
            off += 1 + n
        return ".".join(labels)

    def _dns(self, msg):
        if len(msg) > 12 and not msg[2] & 0x80:
            self.queries.add(self._name(msg, 12))

    def _dns_tcp(self, data):
        while len(data) >= 2:
            n = struct.unpack("!H", data[:2])[0]
            self._dns(data[2 : 2 + n])
            data = data[2 + n :]

    @staticmethod
    def _headers(data, pos):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return None, None, len(data)
        lines = data[pos:end].decode("latin-1").split("\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return lines[0], hdrs, end + 4

    def _http(self, key, c2s, s2c):
        reqs = []
        pos = 0
        while pos < len(c2s):
            first, hdrs, pos = self._headers(c2s, pos)
            if first is None:
                break
            parts = first.split(" ")
            reqs.append((parts[0], parts[1] if len(parts) > 1 else ""))
            pos += int(hdrs.get("content-length", "0") or 0)
        pos = 0
        for method, url in reqs:
            first, hdrs, pos = self._headers(s2c, pos)
            if first is None:
                return
            if method == "HEAD":
                continue
            if hdrs.get("transfer-encoding", "").lower() == "chunked":
                body = bytearray()
                while True:
                    eol = s2c.find(b"\r\n", pos)
                    n = int(s2c[pos:eol].split(b";")[0], 16)
                    pos = eol + 2
                    if n == 0:
                        pos = s2c.find(b"\r\n", pos) + 2
                        break
                    body += s2c[pos : pos + n]
                    pos += n + 2
                body = bytes(body)
            else:
                n = int(hdrs.get("content-length", "0") or 0)
                body = s2c[pos : pos + n]
                pos += n
            h = hashlib.sha256(body).hexdigest()
            self.http_bodies.add(h)
            if url.startswith("/downloads/"):
                self.downloads[h] = (key, url)

    def _smb(self, key, s2c):
        sha = hashlib.sha256()
        got = False
        pos = 0
        while pos + 4 <= len(s2c):
            n = struct.unpack("!I", s2c[pos : pos + 4])[0] & 0xFFFFFF
            msg = s2c[pos + 4 : pos + 4 + n]
            pos += 4 + n
            if len(msg) < 72 or msg[:4] != b"\xfeSMB":
                continue
            cmd = struct.unpack("<H", msg[12:14])[0]
            flags = struct.unpack("<I", msg[16:20])[0]
            status = struct.unpack("<I", msg[8:12])[0]
            if cmd == 8 and flags & 1 and status == 0:
                doff = msg[66]
                dlen = struct.unpack("<I", msg[68:72])[0]
                sha.update(msg[doff : doff + dlen])
                got = True
        if got:
            self.smb_files[sha.hexdigest()] = key
