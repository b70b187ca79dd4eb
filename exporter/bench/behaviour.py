#!/usr/bin/env python3
"""Behaviour capture (not a test, not a benchmark): what a cgscope jar shows the outside on one
scripted run, written so that two jars' captures can be compared with diff.

    exporter/bench/behaviour.py JAR OUTDIR          # as root; then: diff -r OUTDIR_A OUTDIR_B

It starts the jar (--web.listen-address=127.0.0.1:0, the BPF programs on), makes and removes
cgroups under a unique parent below the cgroup2 root (odd names included: spaces, quotes, a
backslash, non-ASCII, a byte that is not UTF-8, a name made again), then captures /cgroup/<id>
(live, dead, unknown), /cgroup?path=, /cgroups, /events (resumed from the start), /healthz, /,
the API's errors, HEAD, /metrics and the log (after SIGTERM). Everything that varies from run to
run is replaced: our cgroups' ids by their paths, times, durations, the host's other cgroups (their
series, events and counts), metric values, the port, the build's revision. What is left must be
the same for two jars that behave the same.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time

JAR, OUT = sys.argv[1], sys.argv[2]
JAVA = os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64") + "/bin/java"


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2" and fields[3] == "/":
                return fields[4]
    sys.exit("no cgroup2 hierarchy root mounted")


ROOT = cgroup2_root()
PARENT_NAME = "cgscope-behaviour-%d" % os.getpid()
PARENT = os.path.join(ROOT, PARENT_NAME)
ids = {}  # id -> placeholder


def mk(rel):
    p = os.path.join(PARENT.encode(), rel) if isinstance(rel, bytes) else os.path.join(PARENT, rel)
    os.mkdir(p)
    name = "<id:%s>" % (rel.decode("utf-8", "backslashreplace") if isinstance(rel, bytes) else rel)
    while name in ids.values():
        name = name[:-1] + "'>"  # the same path made again: <id:again.service'>
    ids[os.stat(p).st_ino] = name
    return os.stat(p).st_ino


def rm(rel):
    os.rmdir(os.path.join(PARENT.encode(), rel) if isinstance(rel, bytes) else os.path.join(PARENT, rel))


def cleanup():
    for dirpath, dirnames, _ in sorted(os.walk(PARENT.encode(), topdown=False), key=lambda t: -len(t[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


os.mkdir(PARENT)
ids[os.stat(PARENT).st_ino] = "<id:parent>"
before = mk("before.slice")
mk("before.slice/kept.service")
err_path = os.path.join(OUT, "stderr.raw")
os.makedirs(OUT, exist_ok=True)
err = open(err_path, "wb")
# The unified hierarchy answers and names the metrics: our cgroups are there (auto may choose a v1
# hierarchy on a hybrid host, by where the host's processes are).
proc = subprocess.Popen([JAVA, "-XX:+UseShenandoahGC", "-Xmx256m", "-jar", JAR, "--web.listen-address=127.0.0.1:0",
                         "--cgroup.retention=10m", "--cgroup.hierarchy=unified"], stdout=subprocess.DEVNULL, stderr=err)
try:
    port = None
    for _ in range(300):
        m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", open(err_path, "rb").read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    if port is None:
        sys.exit("cgscope did not start:\n" + open(err_path, errors="replace").read())

    def get(path, method="GET", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, r.getheader("Content-Type"), r.getheader("Content-Length"), body

    # Changes while it runs.
    live = mk("live.service")
    gone = mk("gone.service")
    rm("gone.service")
    first = mk("again.service")
    rm("again.service")
    for _ in range(200):  # the same name again only once its removal was applied: one read may merge them
        if '"state":"dead"' in get("/cgroup/%d" % first)[3]:
            break
        time.sleep(0.05)
    second = mk("again.service")
    mk("n.slice")
    mk("n.slice/x.service")
    mk("with space")
    mk('quote"d')
    mk("back\\slash")
    mk("Grüße.service")
    mk(b"bad\xffbyte")
    mk("n.slice/short.service")
    rm("n.slice/short.service")
    expected = len([i for i in ids if i != os.stat(PARENT).st_ino]) + 1
    prefix = PARENT_NAME
    for _ in range(200):
        status, _, _, body = get("/cgroups?prefix=" + prefix + "&limit=10000")
        if body.count('"id":') >= expected:
            break
        time.sleep(0.05)

    def norm(text):
        for i in sorted(ids, key=lambda x: -len(str(x))):
            text = re.sub(r"(?<![0-9])%d(?![0-9])" % i, lambda m, r=ids[i]: r, text)
            text = text.replace("0x%x" % i, ids[i])
        text = text.replace(PARENT_NAME, "<parent>")
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
        text = re.sub(r'"parent_id":\d+', '"parent_id":<host id>', text)  # the test parent's parent
        return text

    api = []

    def show(path, method="GET", headers=None):
        status, ctype, clen, body = get(path, method, headers)
        api.append("%s %s -> %d %s%s\n%s" % (method, norm(path), status, ctype,
                                               " length %s" % clen if method == "HEAD" else "", norm(body)))

    for i in (live, gone, first, second, before):
        show("/cgroup/%d" % i)
    show("/cgroup/0x%x" % live)
    show("/cgroup/%d" % live, "HEAD")
    show("/cgroup/%d?hierarchy=unified" % live)
    for p in ("/" + prefix + "/again.service", prefix + "/again.service/", prefix + "/with%20space",
              prefix + "/quote%22d", prefix + "/bad%5Cxffbyte", prefix + "/Gr%C3%BC%C3%9Fe.service", prefix + "/nope"):
        show("/cgroup?path=" + p)
    for q in ("", "&state=live", "&state=dead", "&limit=2", "&state=all&limit=10000"):
        show("/cgroups?prefix=" + prefix + q)
    for bad in ("/cgroup/abc", "/cgroup/0", "/cgroup/18446744073709551616", "/cgroup?path=", "/cgroups?limit=0",
                "/cgroups?state=x", "/cgroups?x=1", "/nope", "/cgroup/1?x=1", "/cgroups?hierarchy=nope"):
        show(bad)
    show("/healthz", "POST")
    status, ctype, _, body = get("/healthz")
    api.append("GET /healthz -> %d %s\n%s" % (status, ctype, re.sub(r'"cgroups":\d+', '"cgroups":N', body)))
    status, ctype, _, body = get("/hierarchies")  # the host's hierarchies; their sizes vary
    api.append("GET /hierarchies -> %d %s\n%s" % (status, ctype, re.sub(r'"live":\d+,"dead":\d+', '"live":N,"dead":M', body)))
    status, ctype, _, body = get("/")
    api.append("GET / -> %d %s\n%s" % (status, ctype, re.sub(r"\d+ live and \d+ retained", "N live and M retained",
                                                             re.sub(r"<p>cgscope [^<]*</p>", "<p>BUILD</p>", body))))
    open(os.path.join(OUT, "api.txt"), "w").write("\n\n".join(api) + "\n")

    # /events from the start: our cgroups' changes, in order (the host's own are left out).
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n")
    raw = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
    except socket.timeout:
        pass
    s.close()
    head, _, stream = raw.decode("utf-8", "replace").partition("\r\n\r\n")
    events = [e.strip() for e in re.split(r"\r?\n\r?\n", stream) if PARENT_NAME in e]  # (a reset: how much the host churned)
    events = [re.sub(r"(?m)^id: \d+", "id: <seq>", re.sub(r"(?m)^[0-9a-f]+\r?$\n?", "", e)) for e in events]
    open(os.path.join(OUT, "events.txt"), "w").write(
        re.sub(r"(?m)^(date|Date):.*$", "", head.split("\r\n")[0]) + "\n\n" + "\n\n".join(norm(e) for e in events) + "\n")

    # /metrics: every family's HELP and TYPE; samples without values; of per-cgroup series ours only.
    _, _, _, body = get("/metrics")
    lines = []
    for line in body.splitlines():
        name = re.match(r"(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)", line).group(1)
        if name.startswith(("jvm_", "process_")):
            continue
        if not line.startswith("#"):
            m = re.search(r'cgroup="([^"]*)"', line)
            if m and not m.group(1).startswith(PARENT_NAME):
                continue
            line = re.sub(r" \S+$", " <v>", line)
        line = re.sub(r'revision="[^"]*"', 'revision="<rev>"', line)
        lines.append(norm(line))
    # Families in name order: the registry lists its collectors in the order of their identity hash codes.
    blocks, block = [], []
    for line in lines:
        if line.startswith("# HELP") and block:
            blocks.append(block)
            block = []
        block.append(line)
    blocks.append(block)
    open(os.path.join(OUT, "metrics.txt"), "w").write("\n".join(l for b in sorted(blocks) for l in b) + "\n")
finally:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    cleanup()

log = open(err_path, "rb").read().decode("utf-8", "replace")
out = []
for line in log.splitlines():
    line = re.sub(r"^ts=\S+ ", "ts=<ts> ", line)
    line = re.sub(r"\d+ cgroups in \d+ ms", "N cgroups in T ms", line)
    line = re.sub(r"in \d+ ms", "in T ms", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", line)
    line = re.sub(r"fsid [0-9a-f]+:[0-9a-f]+", "fsid <fsid>", line)
    line = re.sub(r"\d+ running containers", "N running containers", line)  # the host's
    out.append(norm(line))
open(os.path.join(OUT, "log.txt"), "w").write("\n".join(out) + "\n")
os.remove(err_path)
print(OUT)
