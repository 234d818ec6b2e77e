import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.watch_match_page import WatchMatchPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    session_id: str,
    watch_id: str,
    *,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v2/index/{session_id}/watches/{watch_id}/matches".format(
            session_id=quote(str(session_id), safe=""),
            watch_id=quote(str(watch_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | WatchMatchPage | None:
    if response.status_code == 200:
        response_200 = WatchMatchPage.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | WatchMatchPage]:
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
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | WatchMatchPage]:
    """A guest watch's matches

     Every photo matched for the watch, oldest first: those it was created with, then each
    photo indexed later that matched (a photo deleted, re-indexed or whose face was
    forgotten takes its match with it). Paged by `cursor`; `since` keeps matches at or
    after a time.

    Args:
        session_id (str):
        watch_id (str):
        since (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | WatchMatchPage]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        watch_id=watch_id,
        since=since,
        limit=limit,
        cursor=cursor,
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
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ErrorBody | WatchMatchPage | None:
    """A guest watch's matches

     Every photo matched for the watch, oldest first: those it was created with, then each
    photo indexed later that matched (a photo deleted, re-indexed or whose face was
    forgotten takes its match with it). Paged by `cursor`; `since` keeps matches at or
    after a time.

    Args:
        session_id (str):
        watch_id (str):
        since (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | WatchMatchPage
    """

    return sync_detailed(
        session_id=session_id,
        watch_id=watch_id,
        client=client,
        since=since,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | WatchMatchPage]:
    """A guest watch's matches

     Every photo matched for the watch, oldest first: those it was created with, then each
    photo indexed later that matched (a photo deleted, re-indexed or whose face was
    forgotten takes its match with it). Paged by `cursor`; `since` keeps matches at or
    after a time.

    Args:
        session_id (str):
        watch_id (str):
        since (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | WatchMatchPage]
    """

    kwargs = _get_kwargs(
        session_id=session_id,
        watch_id=watch_id,
        since=since,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_id: str,
    watch_id: str,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ErrorBody | WatchMatchPage | None:
    """A guest watch's matches

     Every photo matched for the watch, oldest first: those it was created with, then each
    photo indexed later that matched (a photo deleted, re-indexed or whose face was
    forgotten takes its match with it). Paged by `cursor`; `since` keeps matches at or
    after a time.

    Args:
        session_id (str):
        watch_id (str):
        since (datetime.datetime | Unset):
        limit (int | Unset):
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | WatchMatchPage
    """

    return (
        await asyncio_detailed(
            session_id=session_id,
            watch_id=watch_id,
            client=client,
            since=since,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
