from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.search_body import SearchBody
from ...models.search_results import SearchResults
from ...types import Response


def _get_kwargs(
    *,
    body: SearchBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/search",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | SearchResults | None:
    if response.status_code == 200:
        response_200 = SearchResults.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

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
) -> Response[ErrorBody | SearchResults]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SearchBody,
) -> Response[ErrorBody | SearchResults]:
    """Search a session by selfie

     Detects the largest visible face of the selfie (faces cut off by the frame count for
    what shows; a selfie sent sideways or upside down is turned) and returns every photo
    of the session showing that person: a face matches on its own when its similarity
    reaches `threshold` at the session's size (a larger session needs a closer match), or
    on its person's evidence when the selfie matches the person the face belongs to (each
    match says which, in `evidence`). With several selfies, each counts alone and
    together. A poor selfie (too small, blurred, dark or turned
    away) that matches nothing is refused as `poor_selfie` rather than answered empty;
    one that matches carries `warnings`. Never triggers indexing; an unknown or not yet
    indexed session answers 200 with no matches (use the status route to tell them
    apart).

    Args:
        body (SearchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SearchResults]
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
    client: AuthenticatedClient | Client,
    body: SearchBody,
) -> ErrorBody | SearchResults | None:
    """Search a session by selfie

     Detects the largest visible face of the selfie (faces cut off by the frame count for
    what shows; a selfie sent sideways or upside down is turned) and returns every photo
    of the session showing that person: a face matches on its own when its similarity
    reaches `threshold` at the session's size (a larger session needs a closer match), or
    on its person's evidence when the selfie matches the person the face belongs to (each
    match says which, in `evidence`). With several selfies, each counts alone and
    together. A poor selfie (too small, blurred, dark or turned
    away) that matches nothing is refused as `poor_selfie` rather than answered empty;
    one that matches carries `warnings`. Never triggers indexing; an unknown or not yet
    indexed session answers 200 with no matches (use the status route to tell them
    apart).

    Args:
        body (SearchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SearchResults
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: SearchBody,
) -> Response[ErrorBody | SearchResults]:
    """Search a session by selfie

     Detects the largest visible face of the selfie (faces cut off by the frame count for
    what shows; a selfie sent sideways or upside down is turned) and returns every photo
    of the session showing that person: a face matches on its own when its similarity
    reaches `threshold` at the session's size (a larger session needs a closer match), or
    on its person's evidence when the selfie matches the person the face belongs to (each
    match says which, in `evidence`). With several selfies, each counts alone and
    together. A poor selfie (too small, blurred, dark or turned
    away) that matches nothing is refused as `poor_selfie` rather than answered empty;
    one that matches carries `warnings`. Never triggers indexing; an unknown or not yet
    indexed session answers 200 with no matches (use the status route to tell them
    apart).

    Args:
        body (SearchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SearchResults]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: SearchBody,
) -> ErrorBody | SearchResults | None:
    """Search a session by selfie

     Detects the largest visible face of the selfie (faces cut off by the frame count for
    what shows; a selfie sent sideways or upside down is turned) and returns every photo
    of the session showing that person: a face matches on its own when its similarity
    reaches `threshold` at the session's size (a larger session needs a closer match), or
    on its person's evidence when the selfie matches the person the face belongs to (each
    match says which, in `evidence`). With several selfies, each counts alone and
    together. A poor selfie (too small, blurred, dark or turned
    away) that matches nothing is refused as `poor_selfie` rather than answered empty;
    one that matches carries `warnings`. Never triggers indexing; an unknown or not yet
    indexed session answers 200 with no matches (use the status route to tell them
    apart).

    Args:
        body (SearchBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SearchResults
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
