from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.error_code import ErrorCode

T = TypeVar("T", bound="PhotoError")


@_attrs_define
class PhotoError:
    """Why one photo of a batch failed, with the single-photo route's error code.

    Attributes:
        photo_id (str):
        code (ErrorCode): Every `code` the API answers with; never renamed or reused. 400 `invalid_request`;
            401 `unauthorized`; 404 `not_found`; 405 `method_not_allowed`; 409
            `idempotency_conflict`; 413 `payload_too_large`;
            415 `unsupported_media_type`; 422 `invalid_image`, `image_too_large`, `photo_not_found`,
            `photo_too_large`, `no_face_detected`, `multiple_faces`, `poor_selfie`; 429 `rate_limited`, `overloaded`
            (with `Retry-After`); 500 `internal_error`; 502 `storage_unavailable`,
            `storage_access_denied`; 503 `database_unavailable`, `models_unavailable`, `not_ready`,
            `shutting_down`; 504 `storage_timeout`.
        message (str):
    """

    photo_id: str
    code: ErrorCode
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        photo_id = self.photo_id

        code = self.code.value

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "photo_id": photo_id,
                "code": code,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        photo_id = d.pop("photo_id")

        code = ErrorCode(d.pop("code"))

        message = d.pop("message")

        photo_error = cls(
            photo_id=photo_id,
            code=code,
            message=message,
        )

        photo_error.additional_properties = d
        return photo_error

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
