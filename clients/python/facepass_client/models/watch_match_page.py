from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.watch_match import WatchMatch


T = TypeVar("T", bound="WatchMatchPage")


@_attrs_define
class WatchMatchPage:
    """
    Attributes:
        watch_id (str):
        session_id (str):
        matches (list[WatchMatch]): Oldest first (the matches the watch was created with included).
        next_cursor (str | Unset): Pass as `cursor` for the next page; absent on the last page.
    """

    watch_id: str
    session_id: str
    matches: list[WatchMatch]
    next_cursor: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        watch_id = self.watch_id

        session_id = self.session_id

        matches = []
        for matches_item_data in self.matches:
            matches_item = matches_item_data.to_dict()
            matches.append(matches_item)

        next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "watch_id": watch_id,
                "session_id": session_id,
                "matches": matches,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.watch_match import WatchMatch  # noqa: PLC0415

        d = dict(src_dict)
        watch_id = d.pop("watch_id")

        session_id = d.pop("session_id")

        matches = []
        _matches = d.pop("matches")
        for matches_item_data in _matches:
            matches_item = WatchMatch.from_dict(matches_item_data)

            matches.append(matches_item)

        next_cursor = d.pop("next_cursor", UNSET)

        watch_match_page = cls(
            watch_id=watch_id,
            session_id=session_id,
            matches=matches,
            next_cursor=next_cursor,
        )

        watch_match_page.additional_properties = d
        return watch_match_page

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
