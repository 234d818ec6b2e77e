from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SessionDiff")


@_attrs_define
class SessionDiff:
    """
    Attributes:
        session_id (str):
        indexed (int): Listed photos that are indexed.
        missing (list[str]): Listed, not indexed: index them. Sorted bytewise.
        orphaned (list[str]): Indexed, not listed: delete them. Sorted bytewise.
    """

    session_id: str
    indexed: int
    missing: list[str]
    orphaned: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        indexed = self.indexed

        missing = self.missing

        orphaned = self.orphaned

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "indexed": indexed,
                "missing": missing,
                "orphaned": orphaned,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        indexed = d.pop("indexed")

        missing = cast(list[str], d.pop("missing"))

        orphaned = cast(list[str], d.pop("orphaned"))

        session_diff = cls(
            session_id=session_id,
            indexed=indexed,
            missing=missing,
            orphaned=orphaned,
        )

        session_diff.additional_properties = d
        return session_diff

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
