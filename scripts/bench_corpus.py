#!/usr/bin/env python3
"""Builds the camera-size benchmark corpus from the DEV fixtures (never committed).

Every decodable DEV photo (singles, groups, no-face) is upscaled to cover a 6000x4000 frame
(4000x6000 for portrait originals) and centre-cropped, then a few multi-face composites are
added: six fixture photos tiled 3x2 on one 6000x4000 frame. All are baseline JPEGs at quality
92, as a camera writes them. A 12-megapixel "phone selfie" (4000x3000) is written beside them
for the search benchmark. Output is deterministic; an existing complete corpus is kept.

    python3 scripts/bench_corpus.py [OUT_DIR]     # default: var/bench/corpus

Needs opencv-python-headless and numpy (scripts/bootstrap.sh installs them).
"""
import csv
import os
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.environ.get("FACEPASS_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
QUALITY = [cv2.IMWRITE_JPEG_QUALITY, 92]
COMPOSITES = 5
SELFIE = "deepface_img1.jpg"


def cover(img, width, height):
    """Scales `img` to cover width x height and crops the centre."""
    h, w = img.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    y = (resized.shape[0] - height) // 2
    x = (resized.shape[1] - width) // 2
    return resized[y:y + height, x:x + width]


def fit(img, width, height):
    """Scales `img` to fit inside width x height on a grey canvas, centred."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    resized = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((height, width, 3), 96, np.uint8)
    y = (height - resized.shape[0]) // 2
    x = (width - resized.shape[1]) // 2
    canvas[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
    return canvas


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "var", "bench", "corpus")
    faces_dir = os.path.join(FIXTURES, "faces")
    with open(os.path.join(faces_dir, "labels.csv"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] != "corrupt"]
    marker = os.path.join(out, ".complete")
    expected = len(rows) + COMPOSITES
    if os.path.exists(marker) and open(marker).read().strip() == str(expected):
        print(f"corpus: {expected} photos in {os.path.relpath(out, ROOT)} (kept)")
        return
    os.makedirs(out, exist_ok=True)
    images = {}
    for r in rows:
        img = cv2.imread(os.path.join(faces_dir, r["file"]), cv2.IMREAD_COLOR)
        images[r["file"]] = img
        h, w = img.shape[:2]
        size = (4000, 6000) if h > w else (6000, 4000)
        name = os.path.splitext(r["file"])[0] + ".jpg"
        cv2.imwrite(os.path.join(out, name), cover(img, *size), QUALITY)
    with_faces = [r["file"] for r in rows if r["kind"] in ("single", "group")]
    for c in range(COMPOSITES):
        canvas = np.zeros((4000, 6000, 3), np.uint8)
        for t in range(6):
            src = images[with_faces[(c * 6 + t * 7) % len(with_faces)]]
            x, y = (t % 3) * 2000, (t // 3) * 2000
            canvas[y:y + 2000, x:x + 2000] = fit(src, 2000, 2000)
        cv2.imwrite(os.path.join(out, f"composite_{c}.jpg"), canvas, QUALITY)
    selfie_dir = os.path.join(os.path.dirname(out), "selfie")
    os.makedirs(selfie_dir, exist_ok=True)
    selfie = cover(images[SELFIE], 3000, 4000)
    cv2.imwrite(os.path.join(selfie_dir, "selfie_12mp.jpg"), selfie, QUALITY)
    with open(marker, "w") as fh:
        fh.write(f"{expected}\n")
    print(f"corpus: {expected} photos in {os.path.relpath(out, ROOT)}, selfie in {os.path.relpath(selfie_dir, ROOT)}")


if __name__ == "__main__":
    main()
