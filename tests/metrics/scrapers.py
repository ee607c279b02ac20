#!/usr/bin/env python3
"""Concurrent scrapers of a netfw /metrics endpoint, for test_scrape_load.

Usage: scrapers.py PORT N

Starts N threads, each GETting http://127.0.0.1:PORT/metrics in a loop
(http.client, a new connection per scrape, which says so with
"Connection: close": the server then ends it with its answer instead of
counting it against its per-address limit until our FIN is read) until
its standard input
closes; prints "running" once every thread has had an answer; checks
every answer: status 200, the 0.0.4 content type, a
complete exposition (every line well formed, each family announced once by
# HELP then # TYPE before its samples, the text ends with a newline and
with the samples of the family announced last, every family of the
contract there) and counters that never go down from one scrape to the
next. Prints one line, "scrapes S ok O bad B families F", then the first
few problems, and exits 0 when B is 0 and every thread scraped at least
once."""
import http.client
import re
import sys
import threading

FAMILIES = 21
CTYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
    r'(\S+)$')
MONOTONIC = ("netfw_messages_received_total", "netfw_bytes_received_total",
             "netfw_messages_sent_total", "netfw_connections_accepted_total")


def check(text):
    """Returns (problem or None, {series: value} of the counters)."""
    if not text.endswith("\n"):
        return "no final newline", None
    fams, types, last, help_of, counters = set(), {}, None, None, {}
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("# HELP "):
            help_of = line.split(" ")[2]
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[2] != help_of or parts[2] in fams:
                return f"line {n}: bad TYPE line {line!r}", None
            fams.add(parts[2])
            types[parts[2]] = parts[3]
            last = parts[2]
            continue
        m = SAMPLE.match(line)
        if m is None:
            return f"line {n}: bad sample {line!r}", None
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name != last and not (base == last and types[last] == "histogram"):
            return f"line {n}: {name} outside its family ({last})", None
        try:
            value = float(m.group(3))
        except ValueError:
            return f"line {n}: bad value {line!r}", None
        if name in MONOTONIC:
            counters[name + (m.group(2) or "")] = value
    final = text[:-1].rsplit("\n", 1)[-1]
    if last is None or not final.startswith(last):
        return f"does not end with the last family {last}: {final!r}", None
    if len(fams) != FAMILIES:
        return f"{len(fams)} families, not {FAMILIES}", None
    return None, counters


class Scraper(threading.Thread):
    """One scraper: counts its scrapes and keeps its first problems."""

    def __init__(self, port, stop, problems, started):
        super().__init__(daemon=True)
        self.port, self.stop, self.problems = port, stop, problems
        self.started = started
        self.ok = self.bad = 0

    def one(self, prev):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read().decode("utf-8")
            ctype = resp.getheader("Content-Type")
        finally:
            conn.close()
        if resp.status != 200 or ctype != CTYPE:
            return f"status {resp.status}, Content-Type {ctype!r}", prev
        problem, counters = check(body)
        if problem is None:
            for k, v in prev.items():
                if counters.get(k, -1) < v:
                    return f"{k} went from {v} to {counters.get(k)}", prev
            prev = counters
        return problem, prev

    def run(self):
        prev = {}
        while not self.stop.is_set():
            try:
                problem, prev = self.one(prev)
            except (OSError, http.client.HTTPException) as e:
                problem = f"{type(e).__name__}: {e}"
            if self.ok + self.bad == 0:
                self.started.release()
            if problem is None:
                self.ok += 1
            else:
                self.bad += 1
                if len(self.problems) < 5:
                    self.problems.append(problem)


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    stop, problems, started = threading.Event(), [], threading.Semaphore(0)
    threads = [Scraper(port, stop, problems, started) for _ in range(n)]
    for t in threads:
        t.start()
    for _ in threads:
        if not started.acquire(timeout=30):
            break
    print("running", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    stop.set()
    for t in threads:
        t.join(30)
    ok = sum(t.ok for t in threads)
    bad = sum(t.bad for t in threads)
    print(f"scrapes {ok + bad} ok {ok} bad {bad} families {FAMILIES}")
    for p in problems:
        print(f"problem: {p}")
    idle = [i for i, t in enumerate(threads) if t.ok == 0]
    if idle:
        print(f"problem: threads {idle} never scraped successfully")
    sys.stdout.flush()
    return 0 if bad == 0 and not idle else 1


if __name__ == "__main__":
    sys.exit(main())
