from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FaceQuality")


@_attrs_define
class FaceQuality:
    """How recognisable a selfie face is.

    Attributes:
        face_px (float): Face height in pixels of the selfie.
        sharpness (float): Variance of the Laplacian of the aligned 112x112 grey face crop smoothed by σ 1 px
            (detail, not noise), as if exposed to mid-grey (low: blurred; sharp faces 20 and up).
        brightness (float): Mean grey level of the aligned face crop, 0..255.
        pose (float): Head yaw estimated from the landmarks, degrees (0 frontal, 90 profile).
    """

    face_px: float
    sharpness: float
    brightness: float
    pose: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        face_px = self.face_px

        sharpness = self.sharpness

        brightness = self.brightness

        pose = self.pose

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "face_px": face_px,
                "sharpness": sharpness,
                "brightness": brightness,
                "pose": pose,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        face_px = d.pop("face_px")

        sharpness = d.pop("sharpness")

        brightness = d.pop("brightness")

        pose = d.pop("pose")

        face_quality = cls(
            face_px=face_px,
            sharpness=sharpness,
            brightness=brightness,
            pose=pose,
        )

        face_quality.additional_properties = d
        return face_quality

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
