from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.photo_match import PhotoMatch
    from ..models.query_face import QueryFace


T = TypeVar("T", bound="CreatedWatch")


@_attrs_define
class CreatedWatch:
    """
    Attributes:
        watch_id (str):
        session_id (str):
        guest_ref (str):
        expires_at (datetime.datetime):
        matches (list[PhotoMatch]): The photos already indexed that match, as search returns them (all of them): they
            are not announced again.
        query_faces (list[QueryFace]): The face used from each selfie, in request order.
        warnings (list[str]): Why some selfie is a poor query, as in search.
    """

    watch_id: str
    session_id: str
    guest_ref: str
    expires_at: datetime.datetime
    matches: list[PhotoMatch]
    query_faces: list[QueryFace]
    warnings: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        watch_id = self.watch_id

        session_id = self.session_id

        guest_ref = self.guest_ref

        expires_at = self.expires_at.isoformat()

        matches = []
        for matches_item_data in self.matches:
            matches_item = matches_item_data.to_dict()
            matches.append(matches_item)

        query_faces = []
        for query_faces_item_data in self.query_faces:
            query_faces_item = query_faces_item_data.to_dict()
            query_faces.append(query_faces_item)

        warnings = self.warnings

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "watch_id": watch_id,
                "session_id": session_id,
                "guest_ref": guest_ref,
                "expires_at": expires_at,
                "matches": matches,
                "query_faces": query_faces,
                "warnings": warnings,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.photo_match import PhotoMatch  # noqa: PLC0415
        from ..models.query_face import QueryFace  # noqa: PLC0415

        d = dict(src_dict)
        watch_id = d.pop("watch_id")

        session_id = d.pop("session_id")

        guest_ref = d.pop("guest_ref")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        matches = []
        _matches = d.pop("matches")
        for matches_item_data in _matches:
            matches_item = PhotoMatch.from_dict(matches_item_data)

            matches.append(matches_item)

        query_faces = []
        _query_faces = d.pop("query_faces")
        for query_faces_item_data in _query_faces:
            query_faces_item = QueryFace.from_dict(query_faces_item_data)

            query_faces.append(query_faces_item)

        warnings = cast(list[str], d.pop("warnings"))

        created_watch = cls(
            watch_id=watch_id,
            session_id=session_id,
            guest_ref=guest_ref,
            expires_at=expires_at,
            matches=matches,
            query_faces=query_faces,
            warnings=warnings,
        )

        created_watch.additional_properties = d
        return created_watch

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
