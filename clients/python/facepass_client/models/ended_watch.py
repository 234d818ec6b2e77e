from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EndedWatch")


@_attrs_define
class EndedWatch:
    """
    Attributes:
        watch_id (str):
        session_id (str):
        ended (bool): `true` when this call ended it; `false` when there was no such live watch (ended
            before, or never created): the call is idempotent.
    """

    watch_id: str
    session_id: str
    ended: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        watch_id = self.watch_id

        session_id = self.session_id

        ended = self.ended

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "watch_id": watch_id,
                "session_id": session_id,
                "ended": ended,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        watch_id = d.pop("watch_id")

        session_id = d.pop("session_id")

        ended = d.pop("ended")

        ended_watch = cls(
            watch_id=watch_id,
            session_id=session_id,
            ended=ended,
        )

        ended_watch.additional_properties = d
        return ended_watch

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
