"""Forwarding benchmark (`scripts/bench --forward`): ClusterDNS as a caching forwarder beside
unbound (forward-zone, its cache) and dnsdist (packet cache), all three forwarding to the same
NSD on loopback, in one run, rounds alternating between the servers.

NSD serves a zone `test.` with a wildcard, so every name under it is NOERROR with one A record
(TTL 3600). For each server and round, three dnsperf runs:

  hit    a few names (--hit-names) over and over, asked once each beforehand: every query is
         answered from the cache;
  miss   every name unique (a fresh file per round and server, read at most once: dnsperf -n 1),
         so every query goes upstream and its answer is stored;
  rate   unique names again, at a fixed rate (--rate, dnsperf -Q): latency percentiles of misses
         with the server far from saturation.

The server measured runs pinned to --server-cpu (every thread, `taskset -a -p`), dnsperf and NSD
to --load-cpu. CPU per query is the utime+stime of the server's process tree (/proc/PID/stat)
during the run divided by the answered queries; NSD's is given beside it (near 0 in hit runs
shows they were hits). The table has medians over rounds and the ClusterDNS/unbound and
ClusterDNS/dnsdist ratios.

  scripts/bench --forward [--seconds 10] [--rounds 3] [--rate 2000]
                          [--binary .build/release/clusterdns]
  scripts/bench --forward --quick   # smoke run: 2 s per run, 1 round, no timings asserted

Needs dnsperf, nsd, unbound, dnsdist and taskset (scripts/deps). Only loopback traffic: every
forwarder sends everything to NSD (unbound's forward-zone is "."; dnsdist's security polling is
off); every child is killed and the work directory removed on exit, Ctrl-C included.
"""
import argparse
import datetime
import importlib.machinery
import importlib.util
import math
import os
import platform
import random
import subprocess
import sys

if "bench" not in sys.modules:  # run as a file rather than through `scripts/bench --forward`
    _spec = importlib.util.spec_from_loader("bench", importlib.machinery.SourceFileLoader(
        "bench", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench")))
    sys.modules["bench"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["bench"])
import bench  # noqa: E402
from bench import Abort, Server, ask, fmt, log, median  # noqa: E402

ZONE = "test."
ANSWER = "192.0.2.1"
MODES = ("hit", "miss", "rate")


# ---------------------------------------------------------------- configuration

def write_upstream_zone(workdir):
    """The zone NSD serves: SOA, NS and a wildcard A, so every name under ZONE exists."""
    path = os.path.join(workdir, "test.zone")
    with open(path, "w") as f:
        f.write(f"{ZONE}\t3600\tIN\tSOA\tns.{ZONE} hostmaster.{ZONE} 1 7200 1800 86400 3600\n"
                f"{ZONE}\t3600\tIN\tNS\tns.{ZONE}\n"
                f"ns.{ZONE}\t3600\tIN\tA\t127.0.0.1\n"
                f"*.{ZONE}\t3600\tIN\tA\t{ANSWER}\n")
    return [(ZONE, path, 4)]


def unbound_config(workdir, port, upstream_port):
    """One thread, no DNSSEC validation (the others do none either), everything to NSD."""
    path = os.path.join(workdir, "unbound.conf")
    with open(path, "w") as f:
        f.write(f"""server:
  interface: 127.0.0.1
  port: {port}
  outgoing-interface: 127.0.0.1
  do-ip6: no
  num-threads: 1
  username: ""
  chroot: ""
  directory: "{workdir}"
  pidfile: "{workdir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  local-zone: "{ZONE}" nodefault
  module-config: "iterator"
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{upstream_port}
""")
    return path


def dnsdist_config(workdir, port, upstream_port, cache_entries):
    """A packet cache of cache_entries on the default pool, NSD as its only (always up) server."""
    path = os.path.join(workdir, "dnsdist.conf")
    with open(path, "w") as f:
        f.write(f"""setLocal("127.0.0.1:{port}")
setSecurityPollSuffix("")
newServer({{address="127.0.0.1:{upstream_port}", name="nsd"}}):setUp()
getPool(""):setCache(newPacketCache({cache_entries}))
""")
    return path


# ---------------------------------------------------------------- pinning and query files

def pin_tree(pid, cpus):
    """Pins every thread of every process in pid's tree to cpus; returns the thread count."""
    threads = 0
    for p in bench.process_tree(pid):
        r = subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(p)], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0 and os.path.exists(f"/proc/{p}"):
            raise Abort(f"taskset -a -p -c {cpus} {p} failed: {r.stderr.strip()}")
        try:
            threads += len(os.listdir(f"/proc/{p}/task"))
        except OSError:
            pass
    return threads


def write_queries(path, names):
    with open(path, "w") as f:
        f.writelines(f"{n} A\n" for n in names)
    return len(names)


def unique_names(tag, count):
    """count names nobody asked before: 0000001.<tag>.test. ... (equal lengths, equal packets)."""
    return [f"{i:07d}.{tag}.{ZONE}" for i in range(count)]


# ---------------------------------------------------------------- runs

def p99_after(path, skip):
    """p99 latency of the queries sent after the first `skip` ones (a name's number is its place
    in the file); without the first second, a stall when the load starts does not count."""
    latencies = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("> "):  # "> NOERROR 0000123.r1c.test. A 0.000123"
                parts = line.split()
                try:
                    if int(parts[2].split(".", 1)[0]) >= skip:
                        latencies.append(float(parts[-1]))
                except (IndexError, ValueError):
                    continue
    latencies.sort()
    return latencies[math.ceil(0.99 * len(latencies)) - 1] if latencies else float("nan")


def measure(args, server, nsd, mode, tag, workdir):
    """One dnsperf run of mode against server; the bench.run_dnsperf result plus NSD's CPU."""
    queries = os.path.join(workdir, f"queries-{tag}.txt")
    if mode == "hit":
        for name in args.hot:  # usually cached already; this makes sure
            reply = ask(server.port, name, "A", rd=True)
            if reply is None or reply[0] != "NOERROR":
                raise Abort(f"{server.name}: warming {name} gave {reply}")
        names, runs, rate, verbose = args.hot_file, None, 0, False
    elif mode == "miss":
        names = unique_names(tag, math.ceil(args.seconds * args.miss_qps_bound))
        runs, rate, verbose = 1, 0, False
    else:
        names = unique_names(tag, math.ceil(args.seconds * args.rate * 1.1) + 100)
        runs, rate, verbose = 1, args.rate, True
    lines = write_queries(queries, names)
    pin_tree(server.proc.pid, args.server_cpu)
    nsd_pids = bench.process_tree(nsd.proc.pid)
    nsd0 = bench.cpu_ticks(nsd_pids)
    out = os.path.join(workdir, f"dnsperf-{tag}.out")
    r = bench.run_dnsperf(args, server, queries, lines, args.seconds, out, verbose,
                          max_runs=runs, max_qps=rate)
    nsd_cpu = (bench.cpu_ticks(nsd_pids) - nsd0) / bench.CLK_TCK
    done = r.get("completed", 0)
    r["nsd_us_per_q"] = nsd_cpu * 1e6 / done if done else float("nan")
    # run_dnsperf counts NSD among the other processes; here it is part of the set-up.
    r["nsd_pct"] = 100 * nsd_cpu / r["wall_s"]
    r["other_pct"] = max(0.0, r["other_pct"] - r["nsd_pct"])
    r["exhausted"] = runs == 1 and r.get("sent", 0) >= lines
    if verbose:
        r["p99_later_s"] = p99_after(out, args.rate)
    if not args.keep:
        os.remove(queries)
        os.remove(out)
    if not r["alive"]:
        raise Abort(f"{server.name} died during the {mode} run:\n{server.tail()}")
    if not nsd.alive():
        raise Abort(f"NSD died during the {mode} run:\n{nsd.tail()}")
    return r


def describe(r):
    latency = (f", p50/p99 {fmt(r.get('p50_s', float('nan')) * 1e6, 0)}/"
               f"{fmt(r.get('p99_s', float('nan')) * 1e6, 0)} us (after the first second "
               f"{fmt(r['p99_later_s'] * 1e6, 0)}), max {fmt(r.get('max_s', float('nan')) * 1e6, 0)} us"
               if "p99_later_s" in r else "")
    return (f"{fmt(r.get('qps'), 0)} qps, {fmt(r['cpu_us_per_q'], 2)} us CPU/query "
            f"({fmt(r['cpu_pct'], 0)} % of a core), NSD {fmt(r['nsd_us_per_q'], 2)} us/query, "
            f"lost {r.get('lost', 'n/a')}{latency}; {r.get('rcodes', '')}"
            + ("; QUERY FILE EXHAUSTED before the time limit" if r["exhausted"] else ""))


# ---------------------------------------------------------------- main

def main(argv):
    parser = argparse.ArgumentParser(prog="scripts/bench --forward", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="dnsperf -l per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds; in each, every mode runs on every server in turn")
    parser.add_argument("--rate", type=int, default=2000,
                        help="dnsperf -Q of the fixed-rate miss runs (latency percentiles)")
    parser.add_argument("--hit-names", type=int, default=100, help="names of the hit runs")
    parser.add_argument("--miss-qps-bound", type=int, default=120_000,
                        help="lines of a miss query file per second of run; a server faster "
                             "than this runs out of names early (reported)")
    parser.add_argument("--cache-entries", type=int, default=10_000,
                        help="dnsdist's packet cache size (ClusterDNS's default --cache-size); "
                             "unbound keeps its default 4 MB message and 4 MB RRset caches")
    parser.add_argument("--binary", default=os.path.join(bench.ROOT, ".build/release/clusterdns"))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 s per run, 1 round, short warm-up")
    parser.add_argument("--clients", type=int, default=4, help="dnsperf -c (sockets)")
    parser.add_argument("--outstanding", type=int, default=200, help="dnsperf -q")
    parser.add_argument("--warmup", type=float, default=2,
                        help="seconds of hit and of miss load per server before round 1")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each run wait up to this long until other processes use "
                             "under 25 %% of a CPU (for shared machines)")
    parser.add_argument("--startup-timeout", type=float, default=60,
                        help="seconds to wait for each server to answer")
    parser.add_argument("--server-cpu", default="0",
                        help="CPU list for the forwarder measured (taskset -c)")
    parser.add_argument("--load-cpu", default="1", help="CPU list for dnsperf and NSD")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.warmup = 2, 1, 0.5
    if min(args.rounds, args.rate, args.hit_names, args.miss_qps_bound) < 1 or args.seconds <= 0:
        parser.error("--rounds, --rate, --hit-names, --miss-qps-bound, --seconds must be positive")
    args.max_qps = 0  # bench.run_dnsperf's default rate: none; each call passes its own
    binary, ncpu = bench.check_setup(args, ("dnsperf", "nsd", "unbound", "dnsdist", "taskset"))
    return bench.run_cleaned_up(lambda workdir: forward_bench(args, binary, workdir, ncpu),
                                args.keep)


def start_servers(args, binary, workdir):
    """NSD (pinned to the load CPU), then ClusterDNS, unbound and dnsdist forwarding to it."""
    probe = (f"probe.{ZONE}", "A")
    zones = write_upstream_zone(workdir)
    port = bench.free_port()
    nsd = Server("NSD", args.pin_load + ["nsd", "-d", "-c", bench.nsd_config(workdir, port, zones)],
                 port, os.path.join(workdir, "nsd.stdout"))
    log(f"starting NSD (upstream) on 127.0.0.1:{port}")
    nsd.start(args.startup_timeout, probe=probe)
    pin_tree(nsd.proc.pid, args.load_cpu)
    up = f"127.0.0.1:{nsd.port}"

    empty = os.path.join(workdir, "manifests")
    os.makedirs(empty)
    port = bench.free_port()
    ours = Server("ClusterDNS", args.pin_server + [
        binary, "serve", "--manifests", empty, "--listen", f"127.0.0.1:{port}", "--upstream", up]
        + bench.clusterdns_local_flags(binary), port, os.path.join(workdir, "clusterdns.log"))
    port = bench.free_port()
    unbound = Server("unbound", args.pin_server + [
        "unbound", "-d", "-c", unbound_config(workdir, port, nsd.port)], port,
        os.path.join(workdir, "unbound.log"))
    port = bench.free_port()
    dnsdist = Server("dnsdist", args.pin_server + [
        "dnsdist", "--supervised", "--disable-syslog", "-C",
        dnsdist_config(workdir, port, nsd.port, args.cache_entries)], port,
        os.path.join(workdir, "dnsdist.log"))
    servers = [ours, unbound, dnsdist]
    for s in servers:
        log(f"starting {s.name} on 127.0.0.1:{s.port}, forwarding to {up}")
        s.start(args.startup_timeout, probe=probe,
                ready_line="clusterdns listening on" if s is ours else None)
        threads = pin_tree(s.proc.pid, args.server_cpu)
        reply = ask(s.port, f"check.{ZONE}", "A", rd=True)
        if reply is None or reply[0] != "NOERROR" or reply[2] != ("A",):
            raise Abort(f"{s.name} does not forward: check.{ZONE} A gave {reply}\n{s.tail()}")
        s.note = str(threads)
    return nsd, servers


def forward_bench(args, binary, workdir, ncpu):
    started = datetime.datetime.now(datetime.timezone.utc)
    nsd, servers = start_servers(args, binary, workdir)
    args.hot = [f"h{i:03d}.hot.{ZONE}" for i in range(args.hit_names)]
    args.hot_file = list(args.hot)
    random.Random(1).shuffle(args.hot_file)

    if args.warmup > 0:
        for s in servers:
            log(f"warm-up {s.name}: {args.warmup:g} s hit, {args.warmup:g} s miss")
            seconds, args.seconds = args.seconds, args.warmup
            try:
                measure(args, s, nsd, "hit", f"w{s.name[0].lower()}h", workdir)
                measure(args, s, nsd, "miss", f"w{s.name[0].lower()}m", workdir)
            finally:
                args.seconds = seconds

    results = {(s.name, m): [] for s in servers for m in MODES}
    for rnd in range(1, args.rounds + 1):
        order = servers[(rnd - 1) % len(servers):] + servers[:(rnd - 1) % len(servers)]
        for mode in MODES:
            for s in order:
                tag = f"{mode[0]}{rnd}{s.name[0].lower()}"  # unique per round, mode and server
                r = measure(args, s, nsd, mode, tag, workdir)
                results[(s.name, mode)].append(r)
                log(f"round {rnd} {mode:4} {s.name:10}: {describe(r)}")
    report(args, binary, ncpu, started, servers, results)
    answered = all(sum(r.get("completed", 0) for r in rs) > 0 for rs in results.values())
    if not answered:
        log("error: a server answered no queries in some mode")
        return 1
    return 0


def report(args, binary, ncpu, started, servers, results):
    def med(name, mode, key):
        return median([r.get(key) for r in results[(name, mode)]])

    git = subprocess.run(["git", "-C", bench.ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True, timeout=10).stdout.strip()
    print()
    print(f"## ClusterDNS forwarding vs unbound and dnsdist, {started:%Y-%m-%d %H:%M} UTC")
    print()
    print(f"- machine: {ncpu} CPUs (nproc), {bench.cpu_model()}, Linux {platform.release()}; "
          f"forwarder measured on CPU {args.server_cpu} (all threads), dnsperf and NSD on CPU "
          f"{args.load_cpu}")
    print("- software: dnsperf " + bench.version_of(["dnsperf", "-h"], r"Version (\S+)")
          + ", NSD " + bench.version_of(["nsd", "-v"], r"NSD version (\S+)")
          + ", unbound " + bench.version_of(["unbound", "-V"], r"Version (\S+)")
          + ", dnsdist " + bench.version_of(["dnsdist", "--version"], r"dnsdist (\S+)")
          + f", clusterdns {binary} (tree {git or '?'})")
    print(f"- upstream: NSD, zone {ZONE} with a wildcard A (TTL 3600), one server process. "
          f"Caches: ClusterDNS default (--cache-size 10000), unbound default (4 MB msg + 4 MB "
          f"RRset, 1 thread, module-config iterator), dnsdist newPacketCache({args.cache_entries})")
    print(f"- load: dnsperf -c {args.clients} -q {args.outstanding} -T 1 -l {args.seconds:g}; "
          f"hit: {args.hit_names} names repeated, asked once before; miss: unique names, "
          f"a fresh file each run; rate: unique names at -Q {args.rate}; {args.rounds} round(s), "
          f"servers alternating, after {args.warmup:g} s + {args.warmup:g} s warm-up each; "
          f"medians over rounds")
    print("- threads (all pinned): " + ", ".join(f"{s.name} {s.note}" for s in servers))
    print()
    print(f"| server | hit CPU µs/query | hit qps | miss CPU µs/query | miss qps "
          f"| p50 / p99 µs at {args.rate:,} qps miss | p99 µs after 1st s "
          f"| CPU µs/query at {args.rate:,} qps | lost hit/miss/rate | RSS MiB |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    table = {}
    for s in servers:
        m = {f"{mode}_{k}": med(s.name, mode, k) for mode in MODES
             for k in ("cpu_us_per_q", "qps", "p50_s", "p99_s", "p99_later_s", "rss_mib")}
        table[s.name] = m
        lost = "/".join(fmt(sum(r.get("lost", 0) for r in results[(s.name, mode)]), 0)
                        for mode in MODES)
        print(f"| {s.name} | {fmt(m['hit_cpu_us_per_q'], 2)} | {fmt(m['hit_qps'], 0)} "
              f"| {fmt(m['miss_cpu_us_per_q'], 2)} | {fmt(m['miss_qps'], 0)} "
              f"| {fmt(m['rate_p50_s'] * 1e6, 0)} / {fmt(m['rate_p99_s'] * 1e6, 0)} "
              f"| {fmt(m['rate_p99_later_s'] * 1e6, 0)} "
              f"| {fmt(m['rate_cpu_us_per_q'], 1)} | {lost} | {fmt(results[(s.name, 'rate')][-1]['rss_mib'])} |")
    print()
    ours = table["ClusterDNS"]
    for other in ("unbound", "dnsdist"):
        t = table[other]

        def ratio(key):
            return fmt(ours[key] / t[key], 2) if t[key] and not math.isnan(ours[key] / t[key]) \
                else "n/a"
        print(f"ClusterDNS/{other}: CPU per query hit {ratio('hit_cpu_us_per_q')}, miss "
              f"{ratio('miss_cpu_us_per_q')} (lower is better); qps hit {ratio('hit_qps')}, miss "
              f"{ratio('miss_qps')}; p99 at {args.rate:,} qps {ratio('rate_p99_s')}, after the "
              f"first second {ratio('rate_p99_later_s')}")
    print()
    print("CPU µs/query: the forwarder's utime+stime (/proc/PID/stat, whole process tree, all "
          "threads) during the run / queries answered; NSD's own CPU per answered query, median: "
          + "; ".join(s.name + " " + "/".join(fmt(med(s.name, mode, "nsd_us_per_q"), 2)
                                             for mode in MODES) + " (hit/miss/rate)"
                      for s in servers)
          + ". Response bytes (miss): "
          + ", ".join(f"{s.name} {fmt(med(s.name, 'miss', 'resp_bytes'), 0)}" for s in servers)
          + ". qps is bounded by the load CPU (dnsperf and NSD share it) when the forwarder "
            "is fast. dnsperf used a median "
          + fmt(median([r["load_pct"] for rs in results.values() for r in rs]), 0)
          + " % of a CPU; other processes (not NSD) a median "
          + fmt(median([r["other_pct"] for rs in results.values() for r in rs]), 0)
          + " % of a CPU. Latency percentiles from dnsperf -v's per-query times, answered "
            "queries only; \"after 1st s\" leaves out the queries sent in a rate run's first "
            "second (a stall when load resumes after the server sat idle shows there).")
    for s in servers:
        for mode in MODES:
            rs = results[(s.name, mode)]
            exhausted = sum(r["exhausted"] for r in rs)
            print(f"Response codes, {s.name} {mode} (last round): {rs[-1].get('rcodes', '?')}"
                  + (f"; {exhausted} run(s) ran out of unique names early" if exhausted else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
