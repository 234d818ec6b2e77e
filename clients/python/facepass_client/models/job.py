from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.photo_error import PhotoError


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """An indexing job: `state` is `done` when every photo has an outcome, `cancelled` when a
    cancel dropped the photos not started.

        Attributes:
            job_id (str):
            session_id (str):
            state (JobState): A job's state on the wire: [`JobState`], in the same order.
            total (int): Distinct photos of the job: `total = indexed + failed + pending + dropped`.
            indexed (int): Photos indexed now or before (`skipped` included), as in `/index/batch`.
            skipped (int): Photos already indexed and not recomputed (`force` false).
            failed (int): Photos that failed permanently, or transiently on each of their attempts.
            pending (int): Photos without an outcome yet (waiting, in flight, or waiting for a retry).
            dropped (int): Photos a cancel dropped before they started.
            errors (list[PhotoError]): The first 100 failures, in the order the photos were given.
            created_at (datetime.datetime):
            started_at (datetime.datetime | Unset):
            finished_at (datetime.datetime | Unset):
    """

    job_id: str
    session_id: str
    state: JobState
    total: int
    indexed: int
    skipped: int
    failed: int
    pending: int
    dropped: int
    errors: list[PhotoError]
    created_at: datetime.datetime
    started_at: datetime.datetime | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = self.job_id

        session_id = self.session_id

        state = self.state.value

        total = self.total

        indexed = self.indexed

        skipped = self.skipped

        failed = self.failed

        pending = self.pending

        dropped = self.dropped

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        created_at = self.created_at.isoformat()

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "session_id": session_id,
                "state": state,
                "total": total,
                "indexed": indexed,
                "skipped": skipped,
                "failed": failed,
                "pending": pending,
                "dropped": dropped,
                "errors": errors,
                "created_at": created_at,
            }
        )
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.photo_error import PhotoError  # noqa: PLC0415

        d = dict(src_dict)
        job_id = d.pop("job_id")

        session_id = d.pop("session_id")

        state = JobState(d.pop("state"))

        total = d.pop("total")

        indexed = d.pop("indexed")

        skipped = d.pop("skipped")

        failed = d.pop("failed")

        pending = d.pop("pending")

        dropped = d.pop("dropped")

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = PhotoError.from_dict(errors_item_data)

            errors.append(errors_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        _started_at = d.pop("started_at", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = datetime.datetime.fromisoformat(_started_at)

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = datetime.datetime.fromisoformat(_finished_at)

        job = cls(
            job_id=job_id,
            session_id=session_id,
            state=state,
            total=total,
            indexed=indexed,
            skipped=skipped,
            failed=failed,
            pending=pending,
            dropped=dropped,
            errors=errors,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
        )

        job.additional_properties = d
        return job

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
