#!/usr/bin/env python3
"""Runs the Pixora migration guide's `FacePassClient`, unmodified, against a live FacePass.

The client class is read from the guide itself (the ```python block defining
`class FacePassClient` in ../shared/seeds/*.txt) and executed as is; nothing of it is copied
into this repository. Then the guide's workflow: index_photo, index_batch,
get_session_status, search_faces, delete_session.

    python3 tests/pixora/seed_client.py BASE_URL API_KEY SEEDS_DIR FACES_DIR [SELFIE]

BASE_URL ends in /api/v2 or /api/v1 (the guide's example configuration). SELFIE (default:
the fixture fr_obama2.jpg) is the guest's photo of Obama searched with. Exits non-zero with a
message on the first failed expectation.
"""
import glob
import os
import re
import sys
import uuid


def load_client_class(seeds_dir):
    for path in sorted(glob.glob(os.path.join(seeds_dir, "*.txt"))):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            if "class FacePassClient" in block:
                namespace = {}
                exec(compile(block, path, "exec"), namespace)  # noqa: S102 - the guide's own code
                return namespace["FacePassClient"]
    sys.exit(f"no FacePassClient class in {seeds_dir}")


def expect(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def main():
    base_url, api_key, seeds_dir, faces_dir = sys.argv[1:5]
    selfie_path = sys.argv[5] if len(sys.argv) > 5 else os.path.join(faces_dir, "fr_obama2.jpg")
    FacePassClient = load_client_class(seeds_dir)
    client = FacePassClient(base_url, api_key)
    session = f"pixora-{uuid.uuid4()}"

    one = client.index_photo("p-obama", session, "fr_obama.jpg")
    expect(one["status"] == "indexed" and one["faces_indexed"] == 1, f"index_photo: {one}")

    batch = client.index_batch(
        session,
        [
            {"photo_id": "p-obama-1", "s3_key": "fr_obama1.jpg"},
            {"photo_id": "p-biden", "s3_key": "fr_biden.jpg"},
            {"photo_id": "p-two", "s3_key": "fr_two_people.jpg"},
            {"photo_id": "p-rose", "s3_key": "fr_rose_leslie_img1.jpg"},
        ],
    )
    expect(batch["indexed"] == 4 and batch["failed"] == 0, f"index_batch: {batch}")
    print(f"Indexed: {batch['indexed']}, Failed: {batch['failed']}")

    status = client.get_session_status(session)
    expect(status["indexed"] is True and status["photos_indexed"] == 5, f"status: {status}")

    with open(selfie_path, "rb") as fh:
        selfie = fh.read()
    results = client.search_faces(session_id=session, selfie_data=selfie, threshold=0.7)
    found = {m["photo_id"] for m in results["matches"]}
    expect(found == {"p-obama", "p-obama-1", "p-two"}, f"search found {found}: {results}")
    for match in results["matches"]:
        expect(0.7 <= match["similarity"] <= 1.0 and 0 < match["confidence"] <= 1, f"match: {match}")
    expect(results["total_matches"] == 3 and results["query_time_ms"] >= 0, f"search: {results}")

    deleted = client.delete_session(session)
    expect(deleted["deleted_photos"] == 5, f"delete_session: {deleted}")
    after = client.get_session_status(session)
    expect(after["indexed"] is False, f"status after delete: {after}")
    print(f"ok {base_url}: indexed 5, found {sorted(found)}")


if __name__ == "__main__":
    main()
