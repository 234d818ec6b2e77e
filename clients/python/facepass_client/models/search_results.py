from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.photo_match import PhotoMatch
    from ..models.query_face import QueryFace


T = TypeVar("T", bound="SearchResults")


@_attrs_define
class SearchResults:
    """
    Attributes:
        session_id (str):
        matches (list[PhotoMatch]): One match per photo (its best face), by `similarity` descending, ties by `photo_id`.
        total_matches (int): Photos at or above the threshold, including those cut by `limit`.
        query_face (QueryFace): The selfie face that was searched for.
        query_faces (list[QueryFace]): The face searched for in each selfie, in request order; `query_face` is the first
            one (kept for clients of one selfie).
        warnings (list[str]): Why some selfie is a poor query although it matched (or other selfies did): the
            reasons of `query_faces[].warnings`, sorted, unique. Empty for good selfies.
        query_time_ms (float):
    """

    session_id: str
    matches: list[PhotoMatch]
    total_matches: int
    query_face: QueryFace
    query_faces: list[QueryFace]
    warnings: list[str]
    query_time_ms: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        matches = []
        for matches_item_data in self.matches:
            matches_item = matches_item_data.to_dict()
            matches.append(matches_item)

        total_matches = self.total_matches

        query_face = self.query_face.to_dict()

        query_faces = []
        for query_faces_item_data in self.query_faces:
            query_faces_item = query_faces_item_data.to_dict()
            query_faces.append(query_faces_item)

        warnings = self.warnings

        query_time_ms = self.query_time_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "session_id": session_id,
                "matches": matches,
                "total_matches": total_matches,
                "query_face": query_face,
                "query_faces": query_faces,
                "warnings": warnings,
                "query_time_ms": query_time_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.photo_match import PhotoMatch  # noqa: PLC0415
        from ..models.query_face import QueryFace  # noqa: PLC0415

        d = dict(src_dict)
        session_id = d.pop("session_id")

        matches = []
        _matches = d.pop("matches")
        for matches_item_data in _matches:
            matches_item = PhotoMatch.from_dict(matches_item_data)

            matches.append(matches_item)

        total_matches = d.pop("total_matches")

        query_face = QueryFace.from_dict(d.pop("query_face"))

        query_faces = []
        _query_faces = d.pop("query_faces")
        for query_faces_item_data in _query_faces:
            query_faces_item = QueryFace.from_dict(query_faces_item_data)

            query_faces.append(query_faces_item)

        warnings = cast(list[str], d.pop("warnings"))

        query_time_ms = d.pop("query_time_ms")

        search_results = cls(
            session_id=session_id,
            matches=matches,
            total_matches=total_matches,
            query_face=query_face,
            query_faces=query_faces,
            warnings=warnings,
            query_time_ms=query_time_ms,
        )

        search_results.additional_properties = d
        return search_results

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
