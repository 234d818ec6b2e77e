#!/usr/bin/env python3
"""Drives a live FacePass through the generated Python client (clients/python): index,
batch, status, search, diff, expiry, delete a photo, forget a guest, delete the session,
audit.

    python3 tests/pixora/generated_client.py BASE_URL API_KEY FACES_DIR

BASE_URL is the server root (the client's paths carry /api/v2). Exits non-zero with a
message on the first failed expectation.
"""
import datetime
import os
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

from facepass_client import AuthenticatedClient, Client  # noqa: E402
from facepass_client.api.indexing import (  # noqa: E402
    audit,
    delete_photo,
    delete_session,
    diff_session,
    forget_guest,
    index_batch,
    index_photo,
    set_session_expiry,
)
from facepass_client.api.search import search, session_status  # noqa: E402
from facepass_client.models import (  # noqa: E402
    AuditPage,
    BatchPhoto,
    BatchReport,
    Deleted,
    DiffRequest,
    ErrorBody,
    ExpiryRequest,
    ForgetGuestBody,
    ForgetReport,
    IndexBatchRequest,
    IndexedPhoto,
    IndexRequest,
    PhotoIndexStatus,
    SearchBody,
    SearchResults,
    SessionDiff,
    SessionExpiry,
    SessionStatus,
)
from facepass_client.types import File  # noqa: E402


def expect(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def main():
    base_url, api_key, faces_dir = sys.argv[1:4]
    indexer = AuthenticatedClient(base_url=base_url, token=api_key, prefix="", auth_header_name="X-API-Key")
    public = Client(base_url=base_url)
    session = f"gen-{uuid.uuid4()}"

    one = index_photo.sync(client=indexer, body=IndexRequest(photo_id="p-obama", session_id=session, s3_key="fr_obama.jpg"))
    expect(isinstance(one, IndexedPhoto) and one.status == PhotoIndexStatus.INDEXED and one.faces_indexed == 1, f"index: {one}")

    report = index_batch.sync(
        client=indexer,
        body=IndexBatchRequest(
            session_id=session,
            photos=[
                BatchPhoto(photo_id="p-obama-1", s3_key="fr_obama1.jpg"),
                BatchPhoto(photo_id="p-two", s3_key="fr_two_people.jpg"),
                BatchPhoto(photo_id="p-missing", s3_key="nope.jpg"),
            ],
        ),
    )
    expect(isinstance(report, BatchReport) and report.indexed == 2 and report.failed == 1, f"batch: {report}")
    expect(report.errors[0].code.value == "photo_not_found", f"batch errors: {report.errors}")

    status = session_status.sync(session, client=public)
    expect(isinstance(status, SessionStatus) and status.indexed and status.photos_indexed == 3, f"status: {status}")

    with open(os.path.join(faces_dir, "fr_obama2.jpg"), "rb") as fh:
        selfie = fh.read()
    found = search.sync(client=public, body=SearchBody(file=[File(payload=selfie, file_name="selfie.jpg")], session_id=session))
    expect(isinstance(found, SearchResults), f"search: {found}")
    ids = sorted(m.photo_id for m in found.matches)
    expect(ids == ["p-obama", "p-obama-1", "p-two"], f"search found {ids}")
    expect(found.warnings == [] and found.query_faces[0].quality.face_px > 40, f"quality: {found}")

    # Two selfies of the same guest at once: one answer, a query face per selfie.
    with open(os.path.join(faces_dir, "fr_obama3.jpg"), "rb") as fh:
        second = fh.read()
    both = search.sync(
        client=public,
        body=SearchBody(file=[File(payload=selfie), File(payload=second)], session_id=session),
    )
    expect(isinstance(both, SearchResults) and len(both.query_faces) == 2, f"two selfies: {both}")
    expect(sorted(m.photo_id for m in both.matches) == ids, f"two selfies found {both.matches}")

    refused = search.sync(client=public, body=SearchBody(file=[File(payload=b"not an image")], session_id=session))
    expect(isinstance(refused, ErrorBody) and refused.error.code.value == "invalid_image", f"bad selfie: {refused}")

    diff = diff_session.sync(session, client=indexer, body=DiffRequest(photo_ids=["p-new", "p-obama"]))
    expect(isinstance(diff, SessionDiff) and diff.missing == ["p-new"], f"diff: {diff}")
    expect(diff.orphaned == ["p-obama-1", "p-two"] and diff.indexed == 1, f"diff: {diff}")

    when = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    expiry = set_session_expiry.sync(session, client=indexer, body=ExpiryRequest(expires_at=when))
    expect(isinstance(expiry, SessionExpiry) and expiry.expires_at == when, f"expiry: {expiry}")
    status = session_status.sync(session, client=public)
    expect(status.expires_at == when, f"status expiry: {status}")

    gone = delete_photo.sync(session, "p-two", client=indexer)
    expect(isinstance(gone, Deleted) and gone.deleted_faces == 2, f"delete photo: {gone}")
    forgot = forget_guest.sync(session, client=indexer, body=ForgetGuestBody(file=[File(payload=second)]))
    expect(isinstance(forgot, ForgetReport) and forgot.deleted_faces == 2, f"forget: {forgot}")
    gone = delete_session.sync(session, client=indexer)
    expect(isinstance(gone, Deleted) and gone.deleted_photos == 2 and gone.deleted_faces == 0, f"delete session: {gone}")
    status = session_status.sync(session, client=public)
    expect(not status.indexed, f"status after delete: {status}")
    page = audit.sync(client=indexer, session_id=session)
    expect(isinstance(page, AuditPage), f"audit: {page}")
    actions = [e.action.value for e in page.events]
    expect(actions == ["delete_session", "forget", "delete_photo"], f"audit actions: {actions}")
    expect(all(e.key_id.startswith("k-") and api_key not in e.key_id for e in page.events), f"audit keys: {page}")
    print(f"ok generated client: found {ids}")


if __name__ == "__main__":
    main()
