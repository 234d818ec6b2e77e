#!/usr/bin/env python3
"""Fits the cosine -> similarity calibration of each recognizer on the DEV fixtures.

similarity(c) = 1 / (1 + exp(-slope * (c - midpoint))) is pinned by two points:
  * the recognizer's recommended operating cosine (MANIFEST.md: 0.42 fr_feature, 0.50
    mobilefacenet; the pooled DEV+holdout best thresholds) maps to 0.70, the API's default
    threshold, so `threshold=0.7` means "the model's operating point";
  * the median same-person cosine of the DEV single photos maps to 0.95, so a typical true
    match reads as a confident one.
Then slope = (logit(0.95) - logit(0.70)) / (median_same - operating_cosine).

Inputs: the reference embeddings of crates/embedder-onnx/tests/golden/reference.json (the
largest face of each `single` photo of ../shared/fixtures/faces/labels.csv). Prints the
parameters for config/default.toml and how the DEV pairs land on the similarity scale.

    python3 scripts/fit_calibration.py
"""
import csv
import json
import math
import os
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.environ.get("FACEPASS_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
GOLDEN = os.path.join(ROOT, "crates", "embedder-onnx", "tests", "golden", "reference.json")
OPERATING = {"fr_feature": 0.42, "mobilefacenet": 0.50}
AT_OPERATING, AT_MEDIAN_SAME = 0.70, 0.95


def logit(p):
    return math.log(p / (1 - p))


def main():
    with open(os.path.join(FIXTURES, "faces", "labels.csv"), newline="") as fh:
        identity = {r["file"]: r["identity"] for r in csv.DictReader(fh) if r["kind"] == "single"}
    with open(GOLDEN) as fh:
        pipelines = json.load(fh)["pipelines"]
    for p in pipelines:
        rec = p["recognizer"]
        vectors = {}
        for file, faces in p["files"].items():
            if file in identity and faces:
                largest = max(faces, key=lambda f: (f["bbox"][2] - f["bbox"][0]) * (f["bbox"][3] - f["bbox"][1]))
                vectors[file] = largest["embedding"]
        files = sorted(vectors)
        same, diff = [], []
        for i, a in enumerate(files):
            for b in files[i + 1:]:
                c = sum(x * y for x, y in zip(vectors[a], vectors[b]))
                (same if identity[a] == identity[b] else diff).append(c)
        op = OPERATING[rec]
        median_same = statistics.median(same)
        slope = (logit(AT_MEDIAN_SAME) - logit(AT_OPERATING)) / (median_same - op)
        midpoint = op - logit(AT_OPERATING) / slope
        sim = lambda c: 1 / (1 + math.exp(-slope * (c - midpoint)))  # noqa: E731
        print(f"[calibration.{rec}]  # {p['detector']} + {rec}, DEV: {len(same)} same / {len(diff)} different pairs")
        print(f"operating_cosine = {op}")
        print(f"slope = {slope:.2f}   # midpoint {midpoint:.4f}, median same-person cosine {median_same:.4f}")
        print(f"#   same:  min cosine {min(same):.3f} -> similarity {sim(min(same)):.3f}")
        print(f"#   diff:  max cosine {max(diff):.3f} -> similarity {sim(max(diff)):.3f}, "
              f"mean {statistics.mean(diff):.3f} -> {sim(statistics.mean(diff)):.3f}")
        print()


if __name__ == "__main__":
    main()
