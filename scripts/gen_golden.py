#!/usr/bin/env python3
"""Regenerates the embedder's golden reference file from the Python reference pipeline.

Imports `verify.py` from the fixtures folder (../shared/fixtures by default, or
$FACEPASS_FIXTURES) and, for every decodable DEV photo in labels.csv, records what it finds
for each pipeline below: box, score, landmarks and the L2-normalised embedding. The Rust test
`crates/embedder-onnx/tests/golden.rs` compares FacePass against this file with a tolerance.

    python3 scripts/gen_golden.py            # rewrites crates/embedder-onnx/tests/golden/reference.json

Needs onnxruntime, numpy, opencv-python-headless (scripts/bootstrap.sh installs them).
"""
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.environ.get("FACEPASS_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
OUT = os.path.join(ROOT, "crates", "embedder-onnx", "tests", "golden", "reference.json")

# (FacePass detector preset, FacePass recognizer preset, verify.py detector, verify.py recognizer)
PIPELINES = [
    ("det_2.5g", "fr_feature", "scrfd", "fr_feature"),
    ("yunet", "mobilefacenet", "yunet", "mobilefacenet"),
]


def main():
    sys.path.insert(0, FIXTURES)
    import cv2  # noqa: E402
    import verify  # noqa: E402

    faces_dir = os.path.join(FIXTURES, "faces")
    with open(os.path.join(faces_dir, "labels.csv"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] != "corrupt"]

    doc = {"generated_by": "scripts/gen_golden.py (verify.py reference pipeline)", "pipelines": []}
    for det_preset, rec_preset, det_name, rec_name in PIPELINES:
        det, rec = verify.DETECTORS[det_name](), verify.RECOGNIZERS[rec_name]()
        files = {}
        for r in rows:
            img = cv2.imread(os.path.join(faces_dir, r["file"]), cv2.IMREAD_COLOR)
            dets, kps = verify.detect_with_fallback(det, img)
            faces = []
            for d, k in zip(dets, kps):
                emb = rec.embed(verify.align(img, k))
                faces.append({
                    "bbox": [round(float(v), 2) for v in d[:4]],
                    "score": round(float(d[4]), 5),
                    "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in k],
                    "embedding": [round(float(v), 6) for v in emb],
                })
            files[r["file"]] = faces
        doc["pipelines"].append({"detector": det_preset, "recognizer": rec_preset, "files": files})
        print(f"{det_preset}+{rec_preset}: {sum(len(f) for f in files.values())} faces in {len(files)} photos")

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
