from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="CreateWatchBody")


@_attrs_define
class CreateWatchBody:
    """
    Attributes:
        file (list[File]): A selfie of the guest (the format is detected from the bytes); repeat the part (up
            to 3 times) to send several. Only the faces' embeddings are kept, never the images.
        guest_ref (str): The platform's own id of the guest (opaque to FacePass), returned in webhooks.
        expires_at (str): When the watch ends (RFC 3339): in the future, at most 90 days ahead and not after
            the session's expiry.
        threshold (float | Unset): Minimum `similarity` of a match, 0..1 (default 0.7, as search).
        consent (bool | Unset): Must be `true`: the guest agreed, in the platform's UI, to have new photos matched
            against their face.
        face_index (int | Unset): Which face of a single selfie is the guest, as in search.
    """

    file: list[File]
    guest_ref: str
    expires_at: str
    threshold: float | Unset = UNSET
    consent: bool | Unset = UNSET
    face_index: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file = []
        for file_item_data in self.file:
            file_item = file_item_data.to_tuple()

            file.append(file_item)

        guest_ref = self.guest_ref

        expires_at = self.expires_at

        threshold = self.threshold

        consent = self.consent

        face_index = self.face_index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file": file,
                "guest_ref": guest_ref,
                "expires_at": expires_at,
            }
        )
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if consent is not UNSET:
            field_dict["consent"] = consent
        if face_index is not UNSET:
            field_dict["face_index"] = face_index

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        for file_item_element in self.file:
            files.append(("file", file_item_element.to_tuple()))

        files.append(("guest_ref", (None, str(self.guest_ref).encode(), "text/plain")))

        files.append(("expires_at", (None, str(self.expires_at).encode(), "text/plain")))

        if not isinstance(self.threshold, Unset):
            files.append(("threshold", (None, str(self.threshold).encode(), "text/plain")))

        if not isinstance(self.consent, Unset):
            files.append(("consent", (None, str(self.consent).encode(), "text/plain")))

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

        guest_ref = d.pop("guest_ref")

        expires_at = d.pop("expires_at")

        threshold = d.pop("threshold", UNSET)

        consent = d.pop("consent", UNSET)

        face_index = d.pop("face_index", UNSET)

        create_watch_body = cls(
            file=file,
            guest_ref=guest_ref,
            expires_at=expires_at,
            threshold=threshold,
            consent=consent,
            face_index=face_index,
        )

        create_watch_body.additional_properties = d
        return create_watch_body

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
