#!/usr/bin/env python3
"""FacePass through its API, for `cargo xtask bench`: photos uploaded to S3, one batch request,
faces stored in Postgres. The server is already running (started by the caller, who passes its
pid so that its CPU time and peak RSS can be read from /proc).

    bench_api.py index|job BASE_URL API_KEY SERVER_PID COUNT PHOTO...

Uploads COUNT photos (the corpus files, cycled) to the bucket of FACEPASS__PHOTOS__* (the
variables `scripts/services.sh up` prints), deletes the session `bench-api`, then times one
`POST /api/v2/index/batch` of all of them (`index`), or one `POST /api/v2/index/jobs` followed
until the job is done (`job`: from the request to the poll that sees `done`, every 0.1 s), and
prints one JSON summary line: photos, faces, seconds, the server's CPU seconds and peak RSS.
Runs in the venv `cargo xtask bench` creates (boto3, requests).
"""
import json
import os
import sys
import time

import boto3
import requests

SESSION = "bench-api"


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def s3_client():
    env = os.environ
    return boto3.client(
        "s3",
        endpoint_url=env["FACEPASS__PHOTOS__ENDPOINT"],
        region_name=env.get("FACEPASS__PHOTOS__REGION", "us-east-1"),
        aws_access_key_id=env["FACEPASS__PHOTOS__ACCESS_KEY_ID"],
        aws_secret_access_key=env["FACEPASS__PHOTOS__SECRET_ACCESS_KEY"],
    )


def index(base, key, pid, count, photos, mode="index"):
    s3 = s3_client()
    bucket = os.environ["FACEPASS__PHOTOS__BUCKET"]
    items = []
    for i in range(count):
        path = photos[i % len(photos)]
        s3_key = f"bench/api/p{i:04d}.jpg"
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=s3_key, Body=f.read())
        items.append({"photo_id": f"p{i:04d}", "s3_key": s3_key})
        print(f"\ruploaded {i + 1}/{count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    headers = {"X-API-Key": key}
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{base}/api/v2/health", timeout=5).ok:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the server did not become healthy within 120 s")
        time.sleep(0.5)
    requests.delete(f"{base}/api/v2/index/{SESSION}", headers=headers, timeout=60).raise_for_status()

    cpu_before = proc_cpu_seconds(pid)
    started = time.perf_counter()
    if mode == "job":
        return job(base, headers, pid, items, cpu_before, started)
    r = requests.post(
        f"{base}/api/v2/index/batch",
        headers=headers,
        json={"session_id": SESSION, "photos": items, "force": True},
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    r.raise_for_status()
    body = r.json()
    if body["failed"]:
        sys.exit(f"{body['failed']} photos failed: {body['errors'][:3]}")
    print(json.dumps({
        "photos": body["indexed"],
        "faces": body["faces_indexed"],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(proc_cpu_seconds(pid) - cpu_before, 3),
        "peak_rss_mb": proc_peak_rss_mb(pid),
    }))


def job(base, headers, pid, items, cpu_before, started):
    r = requests.post(
        f"{base}/api/v2/index/jobs",
        headers=headers,
        json={"session_id": SESSION, "photos": items, "force": True},
        timeout=600,
    )
    r.raise_for_status()
    url = f"{base}/api/v2/index/jobs/{r.json()['job_id']}"
    while True:
        body = requests.get(url, headers=headers, timeout=60).json()
        if body["state"] == "done":
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if body["failed"]:
        sys.exit(f"{body['failed']} photos failed: {body['errors'][:3]}")
    status = requests.get(f"{base}/api/v2/search/status/{SESSION}", timeout=60).json()
    print(json.dumps({
        "photos": body["indexed"],
        "faces": status["faces_indexed"],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(proc_cpu_seconds(pid) - cpu_before, 3),
        "peak_rss_mb": proc_peak_rss_mb(pid),
    }))


if __name__ == "__main__":
    if len(sys.argv) < 7 or sys.argv[1] not in ("index", "job"):
        sys.exit(__doc__)
    index(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:], sys.argv[1])
