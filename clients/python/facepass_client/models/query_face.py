from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.bounding_box import BoundingBox
    from ..models.face_quality import FaceQuality


T = TypeVar("T", bound="QueryFace")


@_attrs_define
class QueryFace:
    """The selfie face that was searched for.

    Attributes:
        bbox (BoundingBox): A face box in pixels of the original, orientation-corrected image.
        det_score (float):
        quality (FaceQuality): How recognisable a selfie face is.
        warnings (list[str]): Why this face is a poor query (`too_small`, `too_blurry`, `too_dark`,
            `extreme_pose`; thresholds in `search.quality.*`); empty when it is not.
    """

    bbox: BoundingBox
    det_score: float
    quality: FaceQuality
    warnings: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bbox = self.bbox.to_dict()

        det_score = self.det_score

        quality = self.quality.to_dict()

        warnings = self.warnings

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bbox": bbox,
                "det_score": det_score,
                "quality": quality,
                "warnings": warnings,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.bounding_box import BoundingBox  # noqa: PLC0415
        from ..models.face_quality import FaceQuality  # noqa: PLC0415

        d = dict(src_dict)
        bbox = BoundingBox.from_dict(d.pop("bbox"))

        det_score = d.pop("det_score")

        quality = FaceQuality.from_dict(d.pop("quality"))

        warnings = cast(list[str], d.pop("warnings"))

        query_face = cls(
            bbox=bbox,
            det_score=det_score,
            quality=quality,
            warnings=warnings,
        )

        query_face.additional_properties = d
        return query_face

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
