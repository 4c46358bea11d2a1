#!/usr/bin/env python3
"""Writes app-generated.pcap: application traffic for `metron capture --emit
dns,http,tls,ssh`, built here byte by byte (no metron code) so that tshark, not metron,
says what is in it (see make-tshark-oracles.sh and SOURCE.md).

- DNS over UDP: queries and replies with CNAME and A answers, NXDOMAIN, unanswered
  queries; DNS over TCP: one or two length-prefixed queries per connection.
- HTTP/1.1 on ports 80 and 8080: requests split over several segments, some sent out
  of order, some retransmitted; pipelined requests; Content-Length and chunked
  responses; 200, 301 and 404.
- TLS 1.2 and 1.3 handshakes on 443 and 8443: ClientHellos with SNI, ALPN, GREASE,
  varied ciphers and extensions, some split over two segments; ServerHellos.
- SSH: banners and KEXINIT messages both ways.

Deterministic: python3 make-app-pcap.py > app-generated.pcap
(`make-app-pcap.py SCALE` writes SCALE times as many exchanges: scripts/bench.sh uses it.)
"""
import random
import struct
import sys

rng = random.Random(20261203)
packets = []
clock = [1_700_000_000.0]


def tick(dt=0.0005):
    clock[0] += dt + rng.random() * dt
    return clock[0]


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), rng.randrange(65536), 0x4000, 64, proto, 0, ip4(src), ip4(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    return eth + ip + l4


def udp(src, sp, dst, dp, payload):
    l4 = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(l4))
    l4 = l4[:6] + struct.pack("!H", checksum(pseudo + l4) or 0xFFFF) + l4[8:]
    packets.append((tick(), frame(src, dst, 17, l4)))


def tcp_segment(src, sp, dst, dp, seq, ack, flags, payload=b""):
    l4 = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(l4))
    l4 = l4[:16] + struct.pack("!H", checksum(pseudo + l4)) + l4[18:]
    return frame(src, dst, 6, l4)


class Conn:
    """A TCP connection: handshake, data either way (split, reordered, retransmitted), close."""

    def __init__(self, c, cp, s, sp):
        self.c, self.cp, self.s, self.sp = c, cp, s, sp
        self.cseq = rng.randrange(1 << 32)
        self.sseq = rng.randrange(1 << 32)
        packets.append((tick(), tcp_segment(c, cp, s, sp, self.cseq, 0, 0x02)))
        packets.append((tick(), tcp_segment(s, sp, c, cp, self.sseq, self.cseq + 1, 0x12)))
        self.cseq += 1
        self.sseq += 1
        packets.append((tick(), tcp_segment(c, cp, s, sp, self.cseq, self.sseq, 0x10)))

    def send(self, from_client, data, pieces=1, reorder=False, retransmit=False):
        if from_client:
            src, spt, dst, dpt, seq, ack = self.c, self.cp, self.s, self.sp, self.cseq, self.sseq
        else:
            src, spt, dst, dpt, seq, ack = self.s, self.sp, self.c, self.cp, self.sseq, self.cseq
        cuts = sorted(rng.sample(range(1, len(data)), min(pieces - 1, len(data) - 1))) if pieces > 1 else []
        bounds = [0] + cuts + [len(data)]
        segs = [(seq + bounds[i], data[bounds[i]:bounds[i + 1]]) for i in range(len(bounds) - 1)]
        order = list(range(len(segs)))
        if reorder and len(segs) >= 3:
            order[1], order[2] = order[2], order[1]
        for i in order:
            s, d = segs[i]
            packets.append((tick(), tcp_segment(src, spt, dst, dpt, s, ack, 0x18, d)))
            if retransmit and i == order[0]:
                packets.append((tick(), tcp_segment(src, spt, dst, dpt, s, ack, 0x18, d)))
        if from_client:
            self.cseq += len(data)
        else:
            self.sseq += len(data)

    def close(self):
        packets.append((tick(), tcp_segment(self.c, self.cp, self.s, self.sp, self.cseq, self.sseq, 0x11)))
        packets.append((tick(), tcp_segment(self.s, self.sp, self.c, self.cp, self.sseq, self.cseq + 1, 0x11)))
        packets.append((tick(), tcp_segment(self.c, self.cp, self.s, self.sp, self.cseq + 1, self.sseq + 1, 0x10)))


WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def name():
    return "%s%d.%s.example" % (rng.choice(WORDS), rng.randrange(100), rng.choice(["corp", "cdn", "net"]))


def dns_name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\0"


def dns():
    client = "10.1.0.%d" % rng.randrange(2, 250)
    port = rng.randrange(20000, 60000)
    tid = rng.randrange(65536)
    q = name()
    question = dns_name(q) + struct.pack("!HH", 1, 1)
    udp(client, port, "10.0.0.53", 53, struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question)
    kind = rng.random()
    if kind < 0.1:
        return  # unanswered
    if kind < 0.25:
        udp("10.0.0.53", 53, client, port, struct.pack("!HHHHHH", tid, 0x8183, 1, 0, 0, 0) + question)
        return
    answers = b""
    count = 0
    if rng.random() < 0.5:
        target = name()
        answers += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, len(dns_name(target))) + dns_name(target)
        count += 1
    for _ in range(rng.randrange(1, 4)):
        addr = bytes([93, 184, rng.randrange(256), rng.randrange(1, 255)])
        answers += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, rng.randrange(30, 3600), 4) + addr
        count += 1
    udp("10.0.0.53", 53, client, port, struct.pack("!HHHHHH", tid, 0x8180, 1, count, 0, 0) + question + answers)


def dns_tcp():
    """DNS over TCP: one or two queries, each after its two-byte length, then the replies."""
    conn = Conn("10.1.0.%d" % rng.randrange(2, 250), rng.randrange(20000, 60000), "10.0.0.53", 53)
    asked, answered = b"", b""
    for _ in range(rng.choice([1, 2])):
        tid = rng.randrange(65536)
        question = dns_name(name()) + struct.pack("!HH", rng.choice([1, 16, 28]), 1)
        q = struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + question
        asked += struct.pack("!H", len(q)) + q
        addr = bytes([93, 184, rng.randrange(256), rng.randrange(1, 255)])
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 600, 4) + addr
        r = struct.pack("!HHHHHH", tid, 0x8180, 1, 1, 0, 0) + question + answer
        answered += struct.pack("!H", len(r)) + r
    conn.send(True, asked, pieces=rng.choice([1, 2, 3]), reorder=rng.random() < 0.3)
    conn.send(False, answered, pieces=rng.choice([1, 2]))
    conn.close()


AGENTS = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Wget/1.21.3", "python-requests/2.31.0"]


def http():
    conn = Conn("10.1.0.%d" % rng.randrange(2, 250), rng.randrange(20000, 60000), "10.2.0.%d" % rng.randrange(2, 250), rng.choice([80, 80, 8080]))
    host = name()
    requests = rng.choice([1, 1, 2, 3])
    reqs, resps = b"", b""
    for i in range(requests):
        uri = "/%s/%s?id=%d" % (rng.choice(WORDS), rng.choice(WORDS), rng.randrange(1000))
        method = rng.choice(["GET", "GET", "POST"])
        body = b""
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n" % (method, uri, host, rng.choice(AGENTS))
        if method == "POST":
            body = b"q=" + bytes(rng.choice(b"abcdefgh") for _ in range(rng.randrange(10, 200)))
            head += "Content-Length: %d\r\nContent-Type: application/x-www-form-urlencoded\r\n" % len(body)
        reqs += head.encode() + b"\r\n" + body
        code, reason = rng.choice([(200, "OK"), (200, "OK"), (404, "Not Found"), (301, "Moved Permanently")])
        payload = bytes(rng.choice(b"<>abcdefghij ") for _ in range(rng.randrange(0, 700)))
        if rng.random() < 0.3:
            chunks = b""
            rest = payload
            while rest:
                n = rng.randrange(1, 400)
                chunks += b"%x\r\n" % len(rest[:n]) + rest[:n] + b"\r\n"
                rest = rest[n:]
            chunks += b"0\r\n\r\n"
            resps += ("HTTP/1.1 %d %s\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" % (code, reason)).encode() + chunks
        else:
            resps += ("HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: %d\r\n\r\n" % (code, reason, len(payload))).encode() + payload
    conn.send(True, reqs, pieces=rng.randrange(1, 6), reorder=rng.random() < 0.4, retransmit=rng.random() < 0.3)
    # Responses in segments of at most 1,400 bytes, some out of order.
    pieces = max(1, len(resps) // 1400 + rng.randrange(0, 3))
    conn.send(False, resps, pieces=pieces, reorder=rng.random() < 0.3, retransmit=rng.random() < 0.2)
    conn.close()


GREASE = [0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA, 0xBABA]
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0x000A]


def ext(t, data):
    return struct.pack("!HH", t, len(data)) + data


def client_hello(sni, tls13):
    ciphers = rng.sample(CIPHERS, rng.randrange(3, len(CIPHERS)))
    grease = rng.random() < 0.5
    if grease:
        ciphers = [rng.choice(GREASE)] + ciphers
    exts = []
    if grease:
        exts.append(ext(rng.choice(GREASE), b""))
    if sni:
        n = sni.encode()
        exts.append(ext(0, struct.pack("!HBH", len(n) + 3, 0, len(n)) + n))
    exts.append(ext(0x0017, b""))
    exts.append(ext(0xFF01, b"\0"))
    groups = [0x001D, 0x0017, 0x0018]
    exts.append(ext(0x000A, struct.pack("!H", 2 * len(groups)) + b"".join(struct.pack("!H", g) for g in groups)))
    exts.append(ext(0x000B, b"\x01\x00"))
    if rng.random() < 0.7:
        protos = rng.choice([[b"h2", b"http/1.1"], [b"http/1.1"], [b"h2"]])
        body = b"".join(bytes([len(p)]) + p for p in protos)
        exts.append(ext(0x0010, struct.pack("!H", len(body)) + body))
    sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501]
    exts.append(ext(0x000D, struct.pack("!H", 2 * len(sigs)) + b"".join(struct.pack("!H", s) for s in sigs)))
    if tls13:
        exts.append(ext(0x002B, b"\x04\x03\x04\x03\x03"))
        exts.append(ext(0x0033, struct.pack("!HHH", 36, 0x001D, 32) + bytes(rng.randrange(256) for _ in range(32))))
    rng.shuffle(exts)
    ext_block = b"".join(exts)
    body = struct.pack("!H", 0x0303) + bytes(rng.randrange(256) for _ in range(32)) + b"\x20" + bytes(rng.randrange(256) for _ in range(32))
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers) + b"\x01\x00"
    body += struct.pack("!H", len(ext_block)) + ext_block
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello(tls13, cipher):
    exts = [ext(0xFF01, b"\0")]
    if tls13:
        exts.append(ext(0x002B, b"\x03\x04"))
        exts.append(ext(0x0033, struct.pack("!HH", 0x001D, 32) + bytes(32)))
    ext_block = b"".join(exts)
    body = struct.pack("!H", 0x0303) + bytes(rng.randrange(256) for _ in range(32)) + b"\x00" + struct.pack("!H", cipher) + b"\x00"
    body += struct.pack("!H", len(ext_block)) + ext_block
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs


def tls():
    conn = Conn("10.1.0.%d" % rng.randrange(2, 250), rng.randrange(20000, 60000), "10.3.0.%d" % rng.randrange(2, 250), rng.choice([443, 443, 8443]))
    tls13 = rng.random() < 0.5
    sni = name() if rng.random() < 0.85 else None
    conn.send(True, client_hello(sni, tls13), pieces=rng.choice([1, 1, 2, 3]), reorder=rng.random() < 0.3)
    cipher = rng.choice([0x1301, 0x1302]) if tls13 else rng.choice([0xC02F, 0xC030, 0x009C])
    conn.send(False, server_hello(tls13, cipher) + b"\x14\x03\x03\x00\x01\x01", pieces=rng.choice([1, 2]))
    conn.send(True, b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03\x00\x20" + bytes(32))
    conn.send(False, b"\x17\x03\x03\x00\x20" + bytes(32))
    conn.close()


KEX = ["curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"]
CIPH = ["aes128-ctr", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]


def kexinit():
    lists = [
        ",".join(rng.sample(KEX, rng.randrange(1, 4))),
        "ssh-ed25519,rsa-sha2-512",
        ",".join(rng.sample(CIPH, rng.randrange(1, 4))),
        ",".join(rng.sample(CIPH, rng.randrange(1, 4))),
        "hmac-sha2-256,hmac-sha1",
        "hmac-sha2-256,hmac-sha1",
        "none,zlib@openssh.com",
        "none,zlib@openssh.com",
        "",
        "",
    ]
    payload = b"\x14" + bytes(rng.randrange(256) for _ in range(16))
    payload += b"".join(struct.pack("!I", len(l)) + l.encode() for l in lists) + b"\0" + b"\0\0\0\0"
    padding = 8 - (len(payload) + 5) % 8 + 4
    return struct.pack("!IB", len(payload) + padding + 1, padding) + payload + bytes(padding)


def ssh():
    conn = Conn("10.1.0.%d" % rng.randrange(2, 250), rng.randrange(20000, 60000), "10.4.0.%d" % rng.randrange(2, 250), 22)
    conn.send(False, b"SSH-2.0-OpenSSH_%d.%dp1\r\n" % (rng.randrange(7, 10), rng.randrange(10)))
    conn.send(True, b"SSH-2.0-OpenSSH_%d.%d\r\n" % (rng.randrange(7, 10), rng.randrange(10)))
    conn.send(False, kexinit(), pieces=rng.choice([1, 2]))
    conn.send(True, kexinit(), pieces=rng.choice([1, 2]))
    conn.close()


scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
kinds = ([dns] * 120 + [dns_tcp] * 10 + [http] * 45 + [tls] * 40 + [ssh] * 12) * scale
rng.shuffle(kinds)
for kind in kinds:
    kind()

out = sys.stdout.buffer
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
for ts, data in packets:
    sec = int(ts)
    out.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data), len(data)) + data)
