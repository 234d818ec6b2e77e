from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="ForgetGuestBody")


@_attrs_define
class ForgetGuestBody:
    """
    Attributes:
        file (list[File]): A selfie of the guest (the format is detected from the bytes); repeat the part (up
            to 3 times) to send several.
        threshold (float | Unset): Minimum `similarity` of a face to be deleted, 0..1 (default 0.7, as search).
        face_index (int | Unset): Which face of a single selfie is the guest, as in search.
    """

    file: list[File]
    threshold: float | Unset = UNSET
    face_index: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = []
        for file_item_data in self.file:
            file_item = file_item_data.to_tuple()

            file.append(file_item)

        threshold = self.threshold

        face_index = self.face_index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
            }
        )
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if face_index is not UNSET:
            field_dict["face_index"] = face_index

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        for file_item_element in self.file:
            files.append(("file", file_item_element.to_tuple()))

        if not isinstance(self.threshold, Unset):
            files.append(("threshold", (None, str(self.threshold).encode(), "text/plain")))

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

        threshold = d.pop("threshold", UNSET)

        face_index = d.pop("face_index", UNSET)

        forget_guest_body = cls(
            file=file,
            threshold=threshold,
            face_index=face_index,
        )

        forget_guest_body.additional_properties = d
        return forget_guest_body

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
