#!/usr/bin/env python3
"""bench/run.sh's bookkeeping: one JSON line per run directory, and the table.

  collect.py RUN_DIR --size S --latency MS --rep N --budget RPS --concurrency C --session ID
      prints one JSON line (appended to results.jsonl by run.sh)
  collect.py --table results.jsonl [--session ID]
      prints the markdown table of the session (all sessions without --session)
  collect.py --per-object results.jsonl --session ID [--session ID ...]
      issue 25's table: CPU and requests per object, ours against stripe-node,
      the median of each configuration's repetitions (sessions may be several)
"""
import argparse
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def row(args):
    d = args.run_dir
    ours = load(os.path.join(d, "ours.rusage.json")) or {}
    report = load(os.path.join(d, "reports", "latest", "report.json")) or {}
    run = report.get("run", {})
    node = load(os.path.join(d, "node.json")) or {}
    node_ru = load(os.path.join(d, "node.rusage.json")) or {}
    sim_ru = load(os.path.join(d, "sim.rusage.json")) or {}
    node_rate = load(os.path.join(d, "node.rate_limit"))
    wall = ours.get("wall_s") or 0
    objects = run.get("objects", 0)
    cpu = (ours.get("user_s", 0) + ours.get("sys_s", 0))
    out = {
        "session": args.session, "store": args.store, "size": args.size, "latency_ms": args.latency, "rep": args.rep,
        "budget_rps": args.budget, "concurrency": args.concurrency,
        "ours": {
            "exit": ours.get("exit"), "status": run.get("status"), "wall_s": wall,
            "objects": objects, "requests": run.get("requests", 0), "pages": run.get("pages", 0),
            "retries": run.get("retries", 0), "slices": run.get("slices", 0),
            "objects_per_s": objects / wall if wall else 0,
            "requests_per_s": run.get("requests", 0) / wall if wall else 0,
            "cpu_s": cpu, "cpu_s_per_100k": cpu / objects * 1e5 if objects else 0,
            "max_rss_mb": ours.get("max_rss_kb", 0) / 1024,
            "findings": report.get("totals", {}).get("findings"),
            "applied": report.get("totals", {}).get("applied"),
        },
        "node": {
            "exit": node_ru.get("exit"), "wall_s": node_ru.get("wall_s"), "seconds": node.get("seconds"),
            "objects": node.get("objects"), "requests": node.get("requests"),
            "objects_per_s": node.get("objects_per_s"), "requests_per_s": node.get("requests_per_s"),
            "cpu_s": node_ru.get("user_s", 0) + node_ru.get("sys_s", 0) if node_ru else None,
            "max_rss_mb": node_ru.get("max_rss_kb", 0) / 1024 if node_ru else None,
            "sim_rate_limit": node_rate,
        } if node else ({"exit": node_ru.get("exit"), "sim_rate_limit": node_rate} if node_ru else None),
        "sim": {"max_rss_mb": sim_ru.get("max_rss_kb", 0) / 1024,
                "cpu_s": sim_ru.get("user_s", 0) + sim_ru.get("sys_s", 0)} if sim_ru else None,
    }
    print(json.dumps(out))


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}"


def table(args):
    rows = []
    with open(args.table) as f:
        for line in f:
            r = json.loads(line)
            if args.session and r["session"] != args.session:
                continue
            rows.append(r)
    print("| events | latency | run | ours: objects | wall s | objects/s | req/s (budget) | CPU s /100k obj"
          " | peak RSS MB | node: objects | wall s | objects/s | req/s | peak RSS MB | objects/s ratio"
          " | ours total vs node fetch |")
    print("|" + "---|" * 16)
    for r in rows:
        o, n = r["ours"], r["node"] or {}
        ratio = o["objects_per_s"] / n["objects_per_s"] if n.get("objects_per_s") else None
        limit = n.get("sim_rate_limit")
        limit = "" if limit is None else " (sim limit none)" if limit == 0 else f" (sim limit {limit})"
        if n.get("exit") not in (None, 0):
            limit += f" exit {n['exit']}"
        speed = n["seconds"] / o["wall_s"] if n.get("seconds") and o["wall_s"] else None
        status = "" if o["exit"] == 0 else f" (exit {o['exit']})"
        print(f"| {r['size']} | {r['latency_ms']} ms | {r['rep']} | {fmt(o['objects'])}{status} | {fmt(o['wall_s'], 2)}"
              f" | {fmt(o['objects_per_s'], 0)} | {fmt(o['requests_per_s'])} ({r['budget_rps']})"
              f" | {fmt(o['cpu_s_per_100k'], 2)} | {fmt(o['max_rss_mb'], 0)}"
              f" | {fmt(n.get('objects'))} | {fmt(n.get('seconds'), 2)} | {fmt(n.get('objects_per_s'), 0)}"
              f" | {fmt(n.get('requests_per_s'))}{limit} | {fmt(n.get('max_rss_mb'), 0)}"
              f" | {fmt(ratio, 2)}x | {fmt(speed, 2)}x |")


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def per_object(args):
    groups = {}
    with open(args.per_object) as f:
        for line in f:
            r = json.loads(line)
            if args.session and r["session"] not in args.session:
                continue
            key = (r.get("store") or "sqlite", r["size"], r["latency_ms"])
            groups.setdefault(key, []).append(r)
    print("| store | events | latency | runs | ours CPU s /100k obj | node CPU s /100k obj | ratio"
          " | ours requests | ours objects | ours obj/req | node requests | node objects | node obj/req"
          " | ours wall s | ours req/s (budget) | peak RSS MB | ours CPU s (run) | node CPU s (run) | run ratio |")
    print("|" + "---|" * 19)
    for (store, size, lat), rs in sorted(groups.items()):
        o = [r["ours"] for r in rs]
        n = [r["node"] or {} for r in rs]
        node_cpu = [x["cpu_s"] / x["objects"] * 1e5 for x in n if x.get("cpu_s") and x.get("objects")]
        ours_cpu = median([x["cpu_s_per_100k"] for x in o])
        nc = median(node_cpu)
        ratio = ours_cpu / nc if ours_cpu and nc else None
        oreq, oobj = median([x["requests"] for x in o]), median([x["objects"] for x in o])
        nreq, nobj = median([x.get("requests") for x in n]), median([x.get("objects") for x in n])
        # Whole runs: the two sides need not page the same objects.
        orun = median([x["cpu_s_per_100k"] * x["objects"] / 1e5 for x in o])
        nrun = median([x["cpu_s"] for x in n if x.get("cpu_s")])
        cpus = ", ".join(fmt(x["cpu_s_per_100k"], 2) for x in o)
        ncpus = ", ".join(fmt(x, 2) for x in node_cpu) or "–"
        print(f"| {store} | {size} | {lat} ms | {len(rs)} | **{fmt(ours_cpu, 2)}** ({cpus}) | {fmt(nc, 2)} ({ncpus})"
              f" | {fmt(ratio, 2)}x | {fmt(oreq)} | {fmt(oobj)} | {fmt(oobj / oreq if oreq else None)}"
              f" | {fmt(nreq)} | {fmt(nobj)} | {fmt(nobj / nreq if nreq and nobj else None)}"
              f" | {fmt(median([x['wall_s'] for x in o]), 2)} | {fmt(median([x['requests_per_s'] for x in o]))}"
              f" ({rs[0]['budget_rps']}) | {fmt(median([x['max_rss_mb'] for x in o]), 1)}"
              f" | {fmt(orun, 2)} | {fmt(nrun, 2)} | {fmt(orun / nrun if orun and nrun else None, 2)}x |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run_dir", nargs="?")
    p.add_argument("--size")
    p.add_argument("--latency", type=int)
    p.add_argument("--rep", type=int)
    p.add_argument("--budget", type=float)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--session", action="append")
    p.add_argument("--store", default="sqlite")
    p.add_argument("--table")
    p.add_argument("--per-object")
    args = p.parse_args()
    if not args.per_object:
        args.session = args.session[0] if args.session else None
    if args.per_object:
        per_object(args)
    elif args.table:
        table(args)
    elif args.run_dir:
        row(args)
    else:
        p.error("RUN_DIR or --table")


if __name__ == "__main__":
    sys.exit(main())
