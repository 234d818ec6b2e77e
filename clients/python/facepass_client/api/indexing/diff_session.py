from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.diff_request import DiffRequest
from ...models.error_body import ErrorBody
from ...models.session_diff import SessionDiff
from ...types import Response


def _get_kwargs(
    session_id: str,
    *,
    body: DiffRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index/{session_id}/diff".format(
            session_id=quote(str(session_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | SessionDiff | None:
    if response.status_code == 200:
        response_200 = SessionDiff.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | SessionDiff]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    session_id: str,
    *,
    client: AuthenticatedClient,
    body: DiffRequest,
) -> Response[ErrorBody | SessionDiff]:
    """Reconcile the platform's photo list with the index

     Send every photo id the session has on the platform; the answer names those not
    indexed (`missing`: index them) and those indexed but no longer listed (`orphaned`:
    delete them). Computed in the database; an unknown session has every listed id
    missing.

    Args:
        session_id (str):
        body (DiffRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SessionDiff]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    session_id: str,
    *,
    client: AuthenticatedClient,
    body: DiffRequest,
) -> ErrorBody | SessionDiff | None:
    """Reconcile the platform's photo list with the index

     Send every photo id the session has on the platform; the answer names those not
    indexed (`missing`: index them) and those indexed but no longer listed (`orphaned`:
    delete them). Computed in the database; an unknown session has every listed id
    missing.

    Args:
        session_id (str):
        body (DiffRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SessionDiff
    """

    return sync_detailed(
        session_id=session_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    session_id: str,
    *,
    client: AuthenticatedClient,
    body: DiffRequest,
) -> Response[ErrorBody | SessionDiff]:
    """Reconcile the platform's photo list with the index

     Send every photo id the session has on the platform; the answer names those not
    indexed (`missing`: index them) and those indexed but no longer listed (`orphaned`:
    delete them). Computed in the database; an unknown session has every listed id
    missing.

    Args:
        session_id (str):
        body (DiffRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SessionDiff]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_id: str,
    *,
    client: AuthenticatedClient,
    body: DiffRequest,
) -> ErrorBody | SessionDiff | None:
    """Reconcile the platform's photo list with the index

     Send every photo id the session has on the platform; the answer names those not
    indexed (`missing`: index them) and those indexed but no longer listed (`orphaned`:
    delete them). Computed in the database; an unknown session has every listed id
    missing.

    Args:
        session_id (str):
        body (DiffRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SessionDiff
    """

    return (
        await asyncio_detailed(
            session_id=session_id,
            client=client,
            body=body,
        )
    ).parsed
