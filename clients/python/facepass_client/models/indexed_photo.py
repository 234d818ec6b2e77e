from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.photo_index_status import PhotoIndexStatus

if TYPE_CHECKING:
    from ..models.face import Face


T = TypeVar("T", bound="IndexedPhoto")


@_attrs_define
class IndexedPhoto:
    """
    Attributes:
        photo_id (str):
        session_id (str):
        status (PhotoIndexStatus): What happened to the photo.
        faces_indexed (int): Faces the photo has in the index now.
        no_faces (bool): True when the photo is indexed with no face.
        faces (list[Face]): The faces stored by this call (empty when `skipped`).
        processing_time_ms (float):
    """

    photo_id: str
    session_id: str
    status: PhotoIndexStatus
    faces_indexed: int
    no_faces: bool
    faces: list[Face]
    processing_time_ms: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        session_id = self.session_id

        status = self.status.value

        faces_indexed = self.faces_indexed

        no_faces = self.no_faces

        faces = []
        for faces_item_data in self.faces:
            faces_item = faces_item_data.to_dict()
            faces.append(faces_item)

        processing_time_ms = self.processing_time_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "session_id": session_id,
                "status": status,
                "faces_indexed": faces_indexed,
                "no_faces": no_faces,
                "faces": faces,
                "processing_time_ms": processing_time_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.face import Face  # noqa: PLC0415

        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        session_id = d.pop("session_id")

        status = PhotoIndexStatus(d.pop("status"))

        faces_indexed = d.pop("faces_indexed")

        no_faces = d.pop("no_faces")

        faces = []
        _faces = d.pop("faces")
        for faces_item_data in _faces:
            faces_item = Face.from_dict(faces_item_data)

            faces.append(faces_item)

        processing_time_ms = d.pop("processing_time_ms")

        indexed_photo = cls(
            photo_id=photo_id,
            session_id=session_id,
            status=status,
            faces_indexed=faces_indexed,
            no_faces=no_faces,
            faces=faces,
            processing_time_ms=processing_time_ms,
        )

        indexed_photo.additional_properties = d
        return indexed_photo

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
