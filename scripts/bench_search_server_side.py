#!/usr/bin/env python3
"""Server-side search latency: BODY (a multipart search request) sent N times by CLIENTS
threads to the server of scripts/bench_search_latency.sh; prints p50/p95/p99 of the answers'
`query_time_ms`.

    bench_search_server_side.py BODY CLIENTS N
"""
import json, sys, statistics, requests
from concurrent.futures import ThreadPoolExecutor
body_file, clients, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = open(body_file, 'rb').read()
H = {"Content-Type": "multipart/form-data; boundary=----facepassbench"}
def one(_):
    r = requests.post("http://127.0.0.1:18556/api/v2/search", data=body, headers=H)
    r.raise_for_status()
    return r.json()["query_time_ms"], r.json()["total_matches"]
with ThreadPoolExecutor(clients) as ex:
    res = list(ex.map(one, range(n)))
q = sorted(x for x, _ in res)
pct = lambda p: q[min(len(q) - 1, int(round((len(q) - 1) * p)))]
print(f"server-side query_time_ms: p50 {pct(0.5):.1f} p95 {pct(0.95):.1f} p99 {pct(0.99):.1f} (matches {res[0][1]})")
