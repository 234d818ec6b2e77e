from enum import StrEnum


class PhotoIndexStatus(StrEnum):
    INDEXED = "indexed"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str(self.value)
