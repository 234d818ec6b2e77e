from enum import StrEnum


class JobState(StrEnum):
    CANCELLED = "cancelled"
    DONE = "done"
    QUEUED = "queued"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
