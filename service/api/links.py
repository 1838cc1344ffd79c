"""OpenAPI links: which value in an answer (the id of what was just created, its name) is an
input of another operation. A client can follow them, and schemathesis' stateful testing
chains calls along them (tests/service/test_fuzz.py), so that a created organisation's id
reaches the PUT and DELETE on it instead of a random id that answers 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

API = "/api/v1"


def operation_ref(method: str, path: str) -> str:
    """A JSON-pointer reference to the operation ``method path`` in this schema, e.g.
    ``#/paths/~1api~1v1~1contacts~1%7Bcontact_id%7D/put``."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return f"#/paths/{quote(pointer, safe='~')}/{method.lower()}"


def link(
    method: str,
    path: str,
    description: str,
    *,
    parameters: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One link to ``method path``; ``parameters`` and ``body`` map inputs of the target to
    runtime expressions such as ``$response.body#/id`` (``body`` fills those fields of the
    request body, the rest is the client's)."""
    out: dict[str, Any] = {"operationRef": operation_ref(method, path), "description": description}
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = body
    return out


def links(status: int, **named: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route: the ``named`` links on its answer with ``status``."""
    return {"responses": {str(status): {"links": named}}}


ORGANISATION = f"{API}/organisations/{{organisation_id}}"
CONTACT = f"{API}/contacts/{{contact_id}}"
CHALLENGE = f"{API}/challenges/{{challenge_id}}"
ENTREPRENEUR = f"{API}/entrepreneurs/{{entrepreneur_id}}"


def organisation_links(status: int, pointer: str) -> dict[str, Any]:
    """From an answer holding an organisation at ``pointer`` (``""`` for the whole body)."""
    org_id = {"organisation_id": f"$response.body#{pointer}/id"}
    name = f"$response.body#{pointer}/name"
    return links(
        status,
        UpdateOrganisation=link("put", ORGANISATION, "Endre organisasjonen", parameters=org_id),
        DeleteOrganisation=link("delete", ORGANISATION, "Slett organisasjonen", parameters=org_id),
        AddContact=link(
            "post",
            f"{API}/contacts",
            "Ny kontaktperson i organisasjonen",
            body={"organisation": name},
        ),
        AddUnit=link(
            "post", f"{API}/organisations", "Ny underenhet av organisasjonen", body={"parent": name}
        ),
    )


def contact_links(status: int) -> dict[str, Any]:
    contact_id = {"contact_id": "$response.body#/id"}
    privacy = f"{API}/privacy/contacts/{{contact_id}}"
    return links(
        status,
        UpdateContact=link(
            "put",
            CONTACT,
            "Endre kontaktpersonen",
            parameters=contact_id,
            body={"organisation": "$response.body#/organisation"},
        ),
        DeleteContact=link("delete", CONTACT, "Slett kontaktpersonen", parameters=contact_id),
        ExportContact=link("get", privacy, "Innsyn for kontaktpersonen", parameters=contact_id),
        EraseContact=link(
            "post", f"{privacy}/erase", "Slett kontaktpersonens opplysninger", parameters=contact_id
        ),
    )


def challenge_links(status: int) -> dict[str, Any]:
    ch = {"challenge_id": "$response.body#/challenge/id"}
    return links(
        status,
        GetChallenge=link("get", CHALLENGE, "Behovet", parameters=ch),
        UpdateChallenge=link("put", CHALLENGE, "Endre behovet", parameters=ch),
        DeleteChallenge=link("delete", CHALLENGE, "Slett behovet", parameters=ch),
        Suggestions=link("get", f"{CHALLENGE}/suggestions", "Forslag for behovet", parameters=ch),
        SendToReview=link(
            "post", f"{CHALLENGE}/proposals", "Send forslag til vurdering", parameters=ch
        ),
        Interest=link("post", f"{CHALLENGE}/interest", "Meld interesse for behovet", parameters=ch),
    )


def entrepreneur_links(status: int) -> dict[str, Any]:
    ent = {"entrepreneur_id": "$response.body#/id"}
    privacy = f"{API}/privacy/entrepreneurs/{{entrepreneur_id}}"
    return links(
        status,
        GetEntrepreneur=link("get", ENTREPRENEUR, "Entreprenøren", parameters=ent),
        UpdateEntrepreneur=link("put", ENTREPRENEUR, "Endre profilen", parameters=ent),
        DeleteEntrepreneur=link("delete", ENTREPRENEUR, "Slett entreprenøren", parameters=ent),
        Discover=link(
            "get", f"{ENTREPRENEUR}/challenges", "Behov som passer profilen", parameters=ent
        ),
        ExportEntrepreneur=link("get", privacy, "Innsyn for entreprenøren", parameters=ent),
        EraseEntrepreneur=link(
            "post", f"{privacy}/erase", "Slett entreprenørens opplysninger", parameters=ent
        ),
    )
