"""Contains all the data models used in inputs/outputs"""

from .audit_action import AuditAction
from .audit_event import AuditEvent
from .audit_page import AuditPage
from .batch_photo import BatchPhoto
from .batch_report import BatchReport
from .bounding_box import BoundingBox
from .create_watch_body import CreateWatchBody
from .created_watch import CreatedWatch
from .deleted import Deleted
from .diff_request import DiffRequest
from .ended_watch import EndedWatch
from .error_body import ErrorBody
from .error_code import ErrorCode
from .error_detail import ErrorDetail
from .evidence import Evidence
from .expiry_request import ExpiryRequest
from .face import Face
from .face_quality import FaceQuality
from .forget_guest_body import ForgetGuestBody
from .forget_report import ForgetReport
from .health import Health
from .health_checks import HealthChecks
from .index_batch_request import IndexBatchRequest
from .index_request import IndexRequest
from .indexed_photo import IndexedPhoto
from .job import Job
from .job_page import JobPage
from .job_request import JobRequest
from .job_state import JobState
from .matched_face import MatchedFace
from .people_page import PeoplePage
from .person import Person
from .person_face import PersonFace
from .person_photos import PersonPhotos
from .photo_error import PhotoError
from .photo_index_status import PhotoIndexStatus
from .photo_match import PhotoMatch
from .query_face import QueryFace
from .search_body import SearchBody
from .search_results import SearchResults
from .search_session_legacy_body import SearchSessionLegacyBody
from .session_diff import SessionDiff
from .session_expiry import SessionExpiry
from .session_status import SessionStatus
from .watch import Watch
from .watch_end_reason import WatchEndReason
from .watch_match import WatchMatch
from .watch_match_page import WatchMatchPage

__all__ = (
    "AuditAction",
    "AuditEvent",
    "AuditPage",
    "BatchPhoto",
    "BatchReport",
    "BoundingBox",
    "CreatedWatch",
    "CreateWatchBody",
    "Deleted",
    "DiffRequest",
    "EndedWatch",
    "ErrorBody",
    "ErrorCode",
    "ErrorDetail",
    "Evidence",
    "ExpiryRequest",
    "Face",
    "FaceQuality",
    "ForgetGuestBody",
    "ForgetReport",
    "Health",
    "HealthChecks",
    "IndexBatchRequest",
    "IndexedPhoto",
    "IndexRequest",
    "Job",
    "JobPage",
    "JobRequest",
    "JobState",
    "MatchedFace",
    "PeoplePage",
    "Person",
    "PersonFace",
    "PersonPhotos",
    "PhotoError",
    "PhotoIndexStatus",
    "PhotoMatch",
    "QueryFace",
    "SearchBody",
    "SearchResults",
    "SearchSessionLegacyBody",
    "SessionDiff",
    "SessionExpiry",
    "SessionStatus",
    "Watch",
    "WatchEndReason",
    "WatchMatch",
    "WatchMatchPage",
)
