from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.index_request import IndexRequest
from ...models.indexed_photo import IndexedPhoto
from ...types import Response


def _get_kwargs(
    *,
    body: IndexRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | IndexedPhoto | None:
    if response.status_code == 200:
        response_200 = IndexedPhoto.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = ErrorBody.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = ErrorBody.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | IndexedPhoto]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: IndexRequest,
) -> Response[ErrorBody | IndexedPhoto]:
    """Index one photo

     Fetches the photo by `s3_key`, detects every face, embeds each one and stores the
    vectors under (`session_id`, `photo_id`). A photo already indexed is `skipped` unless
    `force` is true. The photo itself is never stored.

    Args:
        body (IndexRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | IndexedPhoto]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: IndexRequest,
) -> ErrorBody | IndexedPhoto | None:
    """Index one photo

     Fetches the photo by `s3_key`, detects every face, embeds each one and stores the
    vectors under (`session_id`, `photo_id`). A photo already indexed is `skipped` unless
    `force` is true. The photo itself is never stored.

    Args:
        body (IndexRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | IndexedPhoto
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: IndexRequest,
) -> Response[ErrorBody | IndexedPhoto]:
    """Index one photo

     Fetches the photo by `s3_key`, detects every face, embeds each one and stores the
    vectors under (`session_id`, `photo_id`). A photo already indexed is `skipped` unless
    `force` is true. The photo itself is never stored.

    Args:
        body (IndexRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | IndexedPhoto]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: IndexRequest,
) -> ErrorBody | IndexedPhoto | None:
    """Index one photo

     Fetches the photo by `s3_key`, detects every face, embeds each one and stores the
    vectors under (`session_id`, `photo_id`). A photo already indexed is `skipped` unless
    `force` is true. The photo itself is never stored.

    Args:
        body (IndexRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | IndexedPhoto
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
