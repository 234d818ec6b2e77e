from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="SearchSessionLegacyBody")


@_attrs_define
class SearchSessionLegacyBody:
    """
    Attributes:
        file (list[File]): The selfie (JPEG, PNG or WebP; the format is detected from the bytes, the part's
            content type and filename are ignored). Repeat the part (up to 3 times) to send
            several selfies of the same guest: a photo scores its best match over them.
        session_id (str): The session to search.
        threshold (float | Unset): Minimum `similarity`, 0..1 (default 0.7: the model's recommended operating point).
        limit (int | Unset): Most matches returned, 1..1000 (default 100); `total_matches` counts all.
        face_index (int | Unset): Which face of a single selfie to search for, 0-based in the order of a previous
            `multiple_faces` answer's `details.faces` (largest visible face first).
    """

    file: list[File]
    session_id: str
    threshold: float | Unset = UNSET
    limit: int | Unset = UNSET
    face_index: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = []
        for file_item_data in self.file:
            file_item = file_item_data.to_tuple()

            file.append(file_item)

        session_id = self.session_id

        threshold = self.threshold

        limit = self.limit

        face_index = self.face_index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "session_id": session_id,
            }
        )
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if limit is not UNSET:
            field_dict["limit"] = limit
        if face_index is not UNSET:
            field_dict["face_index"] = face_index

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        for file_item_element in self.file:
            files.append(("file", file_item_element.to_tuple()))

        files.append(("session_id", (None, str(self.session_id).encode(), "text/plain")))

        if not isinstance(self.threshold, Unset):
            files.append(("threshold", (None, str(self.threshold).encode(), "text/plain")))

        if not isinstance(self.limit, Unset):
            files.append(("limit", (None, str(self.limit).encode(), "text/plain")))

        if not isinstance(self.face_index, Unset):
            files.append(("face_index", (None, str(self.face_index).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = []
        _file = d.pop("file")
        for file_item_data in _file:
            file_item = File(payload=BytesIO(file_item_data))

            file.append(file_item)

        session_id = d.pop("session_id")

        threshold = d.pop("threshold", UNSET)

        limit = d.pop("limit", UNSET)

        face_index = d.pop("face_index", UNSET)

        search_session_legacy_body = cls(
            file=file,
            session_id=session_id,
            threshold=threshold,
            limit=limit,
            face_index=face_index,
        )

        search_session_legacy_body.additional_properties = d
        return search_session_legacy_body

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
