from enum import StrEnum


class AuditAction(StrEnum):
    DELETE_PHOTO = "delete_photo"
    DELETE_SESSION = "delete_session"
    EXPIRE = "expire"
    FORGET = "forget"

    def __str__(self) -> str:
        return str(self.value)
