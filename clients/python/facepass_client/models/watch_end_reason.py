from enum import StrEnum


class WatchEndReason(StrEnum):
    DELETED = "deleted"
    EXPIRED = "expired"
    FORGOTTEN = "forgotten"
    SESSION_DELETED = "session_deleted"
    SESSION_EXPIRED = "session_expired"

    def __str__(self) -> str:
        return str(self.value)
