from enum import StrEnum


class ErrorCode(StrEnum):
    CONSENT_REQUIRED = "consent_required"
    DATABASE_UNAVAILABLE = "database_unavailable"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    IMAGE_TOO_LARGE = "image_too_large"
    INTERNAL_ERROR = "internal_error"
    INVALID_IMAGE = "invalid_image"
    INVALID_REQUEST = "invalid_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MODELS_UNAVAILABLE = "models_unavailable"
    MULTIPLE_FACES = "multiple_faces"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    NO_FACE_DETECTED = "no_face_detected"
    OVERLOADED = "overloaded"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PHOTO_NOT_FOUND = "photo_not_found"
    PHOTO_TOO_LARGE = "photo_too_large"
    POOR_SELFIE = "poor_selfie"
    RATE_LIMITED = "rate_limited"
    SHUTTING_DOWN = "shutting_down"
    STORAGE_ACCESS_DENIED = "storage_access_denied"
    STORAGE_TIMEOUT = "storage_timeout"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    UNAUTHORIZED = "unauthorized"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"

    def __str__(self) -> str:
        return str(self.value)
