from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_watch_body import CreateWatchBody
from ...models.created_watch import CreatedWatch
from ...models.error_body import ErrorBody
from ...types import Response


def _get_kwargs(
    session_id: str,
    *,
    body: CreateWatchBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index/{session_id}/watches".format(
            session_id=quote(str(session_id), safe=""),
        ),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CreatedWatch | ErrorBody | None:
    if response.status_code == 201:
        response_201 = CreatedWatch.from_dict(response.json())

        return response_201

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

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CreatedWatch | ErrorBody]:
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
    body: CreateWatchBody,
) -> Response[CreatedWatch | ErrorBody]:
    """Watch a session for a guest

     After the guest consented in the platform's UI: every photo indexed into the session
    from now until `expires_at` is matched against the guest's selfies by the rules of
    search (the same matches a search with these selfies and `threshold` returns of that
    photo), and new matches are sent as `watch.matched` webhooks (to `webhooks.url`),
    batched per watch (at most one per `watches.notify_interval_secs`). Answers the
    matches the session already has. Only the selfies' face embeddings are stored, never
    an image; they are deleted when the watch ends (`DELETE`, `expires_at`, the session's
    deletion or purge, or `forget` of the same guest), and each end is audited as
    `watch_end` with its reason.

    Args:
        session_id (str):
        body (CreateWatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatedWatch | ErrorBody]
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
    body: CreateWatchBody,
) -> CreatedWatch | ErrorBody | None:
    """Watch a session for a guest

     After the guest consented in the platform's UI: every photo indexed into the session
    from now until `expires_at` is matched against the guest's selfies by the rules of
    search (the same matches a search with these selfies and `threshold` returns of that
    photo), and new matches are sent as `watch.matched` webhooks (to `webhooks.url`),
    batched per watch (at most one per `watches.notify_interval_secs`). Answers the
    matches the session already has. Only the selfies' face embeddings are stored, never
    an image; they are deleted when the watch ends (`DELETE`, `expires_at`, the session's
    deletion or purge, or `forget` of the same guest), and each end is audited as
    `watch_end` with its reason.

    Args:
        session_id (str):
        body (CreateWatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatedWatch | ErrorBody
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
    body: CreateWatchBody,
) -> Response[CreatedWatch | ErrorBody]:
    """Watch a session for a guest

     After the guest consented in the platform's UI: every photo indexed into the session
    from now until `expires_at` is matched against the guest's selfies by the rules of
    search (the same matches a search with these selfies and `threshold` returns of that
    photo), and new matches are sent as `watch.matched` webhooks (to `webhooks.url`),
    batched per watch (at most one per `watches.notify_interval_secs`). Answers the
    matches the session already has. Only the selfies' face embeddings are stored, never
    an image; they are deleted when the watch ends (`DELETE`, `expires_at`, the session's
    deletion or purge, or `forget` of the same guest), and each end is audited as
    `watch_end` with its reason.

    Args:
        session_id (str):
        body (CreateWatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreatedWatch | ErrorBody]
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
    body: CreateWatchBody,
) -> CreatedWatch | ErrorBody | None:
    """Watch a session for a guest

     After the guest consented in the platform's UI: every photo indexed into the session
    from now until `expires_at` is matched against the guest's selfies by the rules of
    search (the same matches a search with these selfies and `threshold` returns of that
    photo), and new matches are sent as `watch.matched` webhooks (to `webhooks.url`),
    batched per watch (at most one per `watches.notify_interval_secs`). Answers the
    matches the session already has. Only the selfies' face embeddings are stored, never
    an image; they are deleted when the watch ends (`DELETE`, `expires_at`, the session's
    deletion or purge, or `forget` of the same guest), and each end is audited as
    `watch_end` with its reason.

    Args:
        session_id (str):
        body (CreateWatchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreatedWatch | ErrorBody
    """

    return (
        await asyncio_detailed(
            session_id=session_id,
            client=client,
            body=body,
        )
    ).parsed
