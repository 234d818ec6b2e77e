from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="IndexRequest")


@_attrs_define
class IndexRequest:
    """
    Attributes:
        photo_id (str): The platform's photo id: 1-128 characters of `[A-Za-z0-9_.:-]`, unique in the session.
        session_id (str): The session (event) the photo belongs to; same alphabet.
        s3_key (str): Object key of the photo in the configured bucket (1-1024 bytes, no `..` segment, no
            leading `/`).
        force (bool | Unset): Recompute even if the photo is already indexed (its faces are replaced atomically).
            Default: False.
    """

    photo_id: str
    session_id: str
    s3_key: str
    force: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        session_id = self.session_id

        s3_key = self.s3_key

        force = self.force

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "session_id": session_id,
                "s3_key": s3_key,
            }
        )
        if force is not UNSET:
            field_dict["force"] = force

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        session_id = d.pop("session_id")

        s3_key = d.pop("s3_key")

        force = d.pop("force", UNSET)

        index_request = cls(
            photo_id=photo_id,
            session_id=session_id,
            s3_key=s3_key,
            force=force,
        )

        index_request.additional_properties = d
        return index_request

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
