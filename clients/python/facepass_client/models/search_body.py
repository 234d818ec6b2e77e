from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="SearchBody")


@_attrs_define
class SearchBody:
    """
    Attributes:
        file (File): The selfie (JPEG, PNG or WebP; the format is detected from the bytes, the part's
            content type and filename are ignored).
        session_id (str): The session to search.
        threshold (float | Unset): Minimum `similarity`, 0..1 (default 0.7: the model's recommended operating point).
        limit (int | Unset): Most matches returned, 1..1000 (default 100); `total_matches` counts all.
    """

    file: File
    session_id: str
    threshold: float | Unset = UNSET
    limit: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        session_id = self.session_id

        threshold = self.threshold

        limit = self.limit

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

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        files.append(("session_id", (None, str(self.session_id).encode(), "text/plain")))

        if not isinstance(self.threshold, Unset):
            files.append(("threshold", (None, str(self.threshold).encode(), "text/plain")))

        if not isinstance(self.limit, Unset):
            files.append(("limit", (None, str(self.limit).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        session_id = d.pop("session_id")

        threshold = d.pop("threshold", UNSET)

        limit = d.pop("limit", UNSET)

        search_body = cls(
            file=file,
            session_id=session_id,
            threshold=threshold,
            limit=limit,
        )

        search_body.additional_properties = d
        return search_body

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
