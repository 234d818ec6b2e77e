from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_report import BatchReport
from ...models.error_body import ErrorBody
from ...models.index_batch_request import IndexBatchRequest
from ...types import Response


def _get_kwargs(
    *,
    body: IndexBatchRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchReport | ErrorBody | None:
    if response.status_code == 200:
        response_200 = BatchReport.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BatchReport | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: IndexBatchRequest,
) -> Response[BatchReport | ErrorBody]:
    """Index many photos of a session

     Photos are processed concurrently and each is committed independently; per-photo
    failures are reported in `errors` with the single-photo route's codes, and the
    request itself still succeeds. Photos already indexed are `skipped` unless `force`.

    Args:
        body (IndexBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchReport | ErrorBody]
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
    body: IndexBatchRequest,
) -> BatchReport | ErrorBody | None:
    """Index many photos of a session

     Photos are processed concurrently and each is committed independently; per-photo
    failures are reported in `errors` with the single-photo route's codes, and the
    request itself still succeeds. Photos already indexed are `skipped` unless `force`.

    Args:
        body (IndexBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchReport | ErrorBody
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: IndexBatchRequest,
) -> Response[BatchReport | ErrorBody]:
    """Index many photos of a session

     Photos are processed concurrently and each is committed independently; per-photo
    failures are reported in `errors` with the single-photo route's codes, and the
    request itself still succeeds. Photos already indexed are `skipped` unless `force`.

    Args:
        body (IndexBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchReport | ErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: IndexBatchRequest,
) -> BatchReport | ErrorBody | None:
    """Index many photos of a session

     Photos are processed concurrently and each is committed independently; per-photo
    failures are reported in `errors` with the single-photo route's codes, and the
    request itself still succeeds. Photos already indexed are `skipped` unless `force`.

    Args:
        body (IndexBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchReport | ErrorBody
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
