#!/usr/bin/env python3
"""exporter/bench/index-summary.py RAW...: median (min-max) tables from exporter/bench/index.sh output."""
import re
import statistics
import sys
from collections import defaultdict


def kv(line):
    return {k: v for k, v in re.findall(r'(\w+)=([-\w.]+)', line)}


def fmt(xs, digits=2):
    xs = sorted(xs)
    if not xs:
        return '-'
    med = statistics.median(xs)
    return f'{med:.{digits}f} ({xs[0]:.{digits}f}-{xs[-1]:.{digits}f})'


def main():
    ev = defaultdict(lambda: defaultdict(list))
    dropped = defaultdict(int)
    fanreader = defaultdict(list)  # (mode, rep) -> fanreader runs (before and after cgscope)
    runs = []  # (mode, rep, cgscope's line, its churn line)
    churn = {}
    sweep = defaultdict(lambda: defaultdict(list))
    for path in sys.argv[1:]:
        for line in open(path):
            if line.startswith('events mode='):
                m = re.match(r'events mode=(\w) rep=(\d+) (\w+): (.*)', line)
                mode, rep, who, rest = m.groups()
                d = kv(rest)
                if who == 'fanreader':
                    fanreader[mode, rep].append(d)
                elif who == 'churn':
                    churn[mode, rep] = d
                elif who == 'cgscope':
                    runs.append((mode, rep, d, churn.pop((mode, rep), {})))
            elif line.startswith('sweep n='):
                m = re.match(r'sweep n=(\d+) rep=(\d+) (.*)', line)
                n, rep, rest = m.groups()
                d = kv(rest)
                if rest.startswith('C:'):
                    sweep[n]['c_ms'].append(float(d['median_ms']))
                elif 'indexbench' in rest:
                    key = 'cold' if d['run'] == '0' else 'warm'
                    sweep[n][key + '_sweep'].append(float(d['sweep_ms']))
                    sweep[n][key + '_sweep_cpu'].append(float(d['sweep_cpu_ms']))
                    sweep[n][key + '_resync'].append(float(d['resync_ms']))
                elif 'cgscope_start_to_ready_s' in d:
                    sweep[n]['start'].append(float(d['cgscope_start_to_ready_s']) * 1000)
                    sweep[n]['start_sweep'].append(float(d['last_sweep_s']) * 1000)
    for mode, rep, d, ch in runs:
        # Keep only runs whose index ended with no churned cgroup left live (none missed).
        c = [r for r in fanreader[mode, rep] if float(r.get('events', 0)) > 0]
        if not c or d.get('live_delta') != '0':
            dropped[mode] += 1
            continue
        e = ev[mode]
        e['c_us'].append(statistics.mean(float(r['cpu_us_per_event']) for r in c))
        e['c_rate'].extend(float(r['churn_cgroups_per_s']) for r in c if 'churn_cgroups_per_s' in r)
        e['j_us'].append(float(d['cpu_us_per_event']))
        e['j_reader'].append(float(d['reader_us_per_event']))
        e['j_gc'].append(float(d['gc_us_per_event']))
        e['lag'].append(float(d['lag_ms']))
        if 'cgroups_per_s' in ch:
            e['rate'].append(float(ch['cgroups_per_s']))
    if ev or dropped:
        print('| mode | churn cgroups/s with fanreader / with cgscope | C fanreader us/event | cgscope process us/event | ratio | cgscope reader thread us/event | ratio | cgscope GC threads us/event | lag after churn, ms |')
        print('|---|---|---|---|---|---|---|---|---|')
        for mode in sorted(set(ev) | set(dropped)):
            e = ev[mode]
            ratio = [j / c for j, c in zip(e['j_us'], e['c_us'])]
            rratio = [j / c for j, c in zip(e['j_reader'], e['c_us'])]
            print(f"| {mode} | {fmt(e['c_rate'], 0)} / {fmt(e['rate'], 0)} | {fmt(e['c_us'])} | {fmt(e['j_us'])} | "
                  f"{fmt(ratio)} | {fmt(e['j_reader'])} | {fmt(rratio)} | {fmt(e['j_gc'])} | {fmt(e['lag'], 0)} |"
                  + (f" ({dropped[mode]} run(s) dropped: a churned cgroup stayed live)" if dropped[mode] else ''))
    if sweep:
        print()
        print('| cgroups | C sweep -m gd, ms (median of 7 per rep) | cgscope Sweeper cold, ms | warm, ms | warm ratio | warm CPU ms | sweep+index cold / warm, ms | cgscope launch to ready, ms | its start-up sweep, ms |')
        print('|---|---|---|---|---|---|---|---|---|')
        for n in sorted(sweep, key=int):
            s = sweep[n]
            c = statistics.median(s['c_ms'])
            w = statistics.median(s['warm_sweep'])
            print(f"| {n} | {fmt(s['c_ms'], 0)} | {fmt(s['cold_sweep'], 0)} | {fmt(s['warm_sweep'], 0)} | {w / c:.2f} | "
                  f"{fmt(s['warm_sweep_cpu'], 0)} | {fmt(s['cold_resync'], 0)} / {fmt(s['warm_resync'], 0)} | "
                  f"{fmt(s['start'], 0)} | {fmt(s['start_sweep'], 0)} |")


main()
