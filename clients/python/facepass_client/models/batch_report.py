from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.photo_error import PhotoError


T = TypeVar("T", bound="BatchReport")


@_attrs_define
class BatchReport:
    """
    Attributes:
        session_id (str):
        total (int): Distinct photos in the request.
        indexed (int): Photos indexed now or before (`skipped` included); `indexed + failed == total`.
        skipped (int): Photos already indexed and not recomputed (`force` false).
        failed (int):
        faces_indexed (int): Faces the indexed photos have in the index.
        photos_without_faces (int): Indexed photos without any face.
        errors (list[PhotoError]): One entry per failed photo, in request order.
        processing_time_ms (float):
    """

    session_id: str
    total: int
    indexed: int
    skipped: int
    failed: int
    faces_indexed: int
    photos_without_faces: int
    errors: list[PhotoError]
    processing_time_ms: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        total = self.total

        indexed = self.indexed

        skipped = self.skipped

        failed = self.failed

        faces_indexed = self.faces_indexed

        photos_without_faces = self.photos_without_faces

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        processing_time_ms = self.processing_time_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "total": total,
                "indexed": indexed,
                "skipped": skipped,
                "failed": failed,
                "faces_indexed": faces_indexed,
                "photos_without_faces": photos_without_faces,
                "errors": errors,
                "processing_time_ms": processing_time_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.photo_error import PhotoError  # noqa: PLC0415

        d = dict(src_dict)
        session_id = d.pop("session_id")

        total = d.pop("total")

        indexed = d.pop("indexed")

        skipped = d.pop("skipped")

        failed = d.pop("failed")

        faces_indexed = d.pop("faces_indexed")

        photos_without_faces = d.pop("photos_without_faces")

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = PhotoError.from_dict(errors_item_data)

            errors.append(errors_item)

        processing_time_ms = d.pop("processing_time_ms")

        batch_report = cls(
            session_id=session_id,
            total=total,
            indexed=indexed,
            skipped=skipped,
            failed=failed,
            faces_indexed=faces_indexed,
            photos_without_faces=photos_without_faces,
            errors=errors,
            processing_time_ms=processing_time_ms,
        )

        batch_report.additional_properties = d
        return batch_report

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
