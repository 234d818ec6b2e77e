from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.watch import Watch
from ...types import Response


def _get_kwargs(
    session_id: str,
    watch_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v2/index/{session_id}/watches/{watch_id}".format(
            session_id=quote(str(session_id), safe=""),
            watch_id=quote(str(watch_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorBody | Watch | None:
    if response.status_code == 200:
        response_200 = Watch.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorBody | Watch]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | Watch]:
    """A guest watch

    Args:
        session_id (str):
        watch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Watch]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        watch_id=watch_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | Watch | None:
    """A guest watch

    Args:
        session_id (str):
        watch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Watch
    """

    return sync_detailed(
        session_id=session_id,
        watch_id=watch_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | Watch]:
    """A guest watch

    Args:
        session_id (str):
        watch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Watch]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        watch_id=watch_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | Watch | None:
    """A guest watch

    Args:
        session_id (str):
        watch_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Watch
    """

    return (
        await asyncio_detailed(
            session_id=session_id,
            watch_id=watch_id,
            client=client,
        )
    ).parsed
