from enum import StrEnum


class Evidence(StrEnum):
    FACE = "face"
    PERSON = "person"

    def __str__(self) -> str:
        return str(self.value)
