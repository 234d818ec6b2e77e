from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.job import Job
from ...models.job_request import JobRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: JobRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | Job | None:
    if response.status_code == 200:
        response_200 = Job.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = Job.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

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

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | Job]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: JobRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorBody | Job]:
    """Submit an indexing job

     For whole events: the job and its photos are written to the database at once and
    indexed by every replica's workers; a restart or a replica that dies loses nothing.
    Per-photo outcomes use the codes of `/index/batch`; transient failures are retried with
    backoff (`jobs.max_attempts`). The same `Idempotency-Key` with the same body answers the
    job it created (200); with another body, 409.

    Args:
        idempotency_key (str | Unset):
        body (JobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Job]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: JobRequest,
    idempotency_key: str | Unset = UNSET,
) -> ErrorBody | Job | None:
    """Submit an indexing job

     For whole events: the job and its photos are written to the database at once and
    indexed by every replica's workers; a restart or a replica that dies loses nothing.
    Per-photo outcomes use the codes of `/index/batch`; transient failures are retried with
    backoff (`jobs.max_attempts`). The same `Idempotency-Key` with the same body answers the
    job it created (200); with another body, 409.

    Args:
        idempotency_key (str | Unset):
        body (JobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Job
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: JobRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ErrorBody | Job]:
    """Submit an indexing job

     For whole events: the job and its photos are written to the database at once and
    indexed by every replica's workers; a restart or a replica that dies loses nothing.
    Per-photo outcomes use the codes of `/index/batch`; transient failures are retried with
    backoff (`jobs.max_attempts`). The same `Idempotency-Key` with the same body answers the
    job it created (200); with another body, 409.

    Args:
        idempotency_key (str | Unset):
        body (JobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Job]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: JobRequest,
    idempotency_key: str | Unset = UNSET,
) -> ErrorBody | Job | None:
    """Submit an indexing job

     For whole events: the job and its photos are written to the database at once and
    indexed by every replica's workers; a restart or a replica that dies loses nothing.
    Per-photo outcomes use the codes of `/index/batch`; transient failures are retried with
    backoff (`jobs.max_attempts`). The same `Idempotency-Key` with the same body answers the
    job it created (200); with another body, 409.

    Args:
        idempotency_key (str | Unset):
        body (JobRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Job
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
