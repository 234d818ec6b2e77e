from enum import StrEnum


class AuditAction(StrEnum):
    DELETE_PHOTO = "delete_photo"
    DELETE_SESSION = "delete_session"
    EXPIRE = "expire"
    FORGET = "forget"
    WATCH_END = "watch_end"

    def __str__(self) -> str:
        return str(self.value)
