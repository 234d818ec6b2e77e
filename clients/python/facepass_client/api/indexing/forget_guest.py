from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.forget_guest_body import ForgetGuestBody
from ...models.forget_report import ForgetReport
from ...types import Response


def _get_kwargs(
    session_id: str,
    *,
    body: ForgetGuestBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/index/{session_id}/forget".format(
            session_id=quote(str(session_id), safe=""),
        ),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | ForgetReport | None:
    if response.status_code == 200:
        response_200 = ForgetReport.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | ForgetReport]:
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
    body: ForgetGuestBody,
) -> Response[ErrorBody | ForgetReport]:
    """Erase a guest from a session by selfie

     Deletes every face of the session whose similarity to the guest's selfie (or best
    over several) reaches `threshold`. Other people in the same photos stay findable.
    Recorded in the audit as `forget` with the counts; nothing of the selfie is stored.
    The session's guest watches whose selfies match these end with it.

    Args:
        session_id (str):
        body (ForgetGuestBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | ForgetReport]
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
    body: ForgetGuestBody,
) -> ErrorBody | ForgetReport | None:
    """Erase a guest from a session by selfie

     Deletes every face of the session whose similarity to the guest's selfie (or best
    over several) reaches `threshold`. Other people in the same photos stay findable.
    Recorded in the audit as `forget` with the counts; nothing of the selfie is stored.
    The session's guest watches whose selfies match these end with it.

    Args:
        session_id (str):
        body (ForgetGuestBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | ForgetReport
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
    body: ForgetGuestBody,
) -> Response[ErrorBody | ForgetReport]:
    """Erase a guest from a session by selfie

     Deletes every face of the session whose similarity to the guest's selfie (or best
    over several) reaches `threshold`. Other people in the same photos stay findable.
    Recorded in the audit as `forget` with the counts; nothing of the selfie is stored.
    The session's guest watches whose selfies match these end with it.

    Args:
        session_id (str):
        body (ForgetGuestBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | ForgetReport]
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
    body: ForgetGuestBody,
) -> ErrorBody | ForgetReport | None:
    """Erase a guest from a session by selfie

     Deletes every face of the session whose similarity to the guest's selfie (or best
    over several) reaches `threshold`. Other people in the same photos stay findable.
    Recorded in the audit as `forget` with the counts; nothing of the selfie is stored.
    The session's guest watches whose selfies match these end with it.

    Args:
        session_id (str):
        body (ForgetGuestBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | ForgetReport
    """

    return (
        await asyncio_detailed(
            session_id=session_id,
            client=client,
            body=body,
        )
    ).parsed
