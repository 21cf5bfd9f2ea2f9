"""Schema hooks: every operation documents the JSON error body for its 4xx answers."""

ERROR = {"$ref": "#/components/schemas/Error"}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: a `4XX` JSON Error response and the Error component."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "invalid, unauthenticated, forbidden, not_found, conflict, ..."},
            "message": {"type": "string", "description": "For a person to read."},
            "field": {"type": "string", "description": "The field at fault, when known."},
        },
        "required": ["code", "message"],
    }
    for name, component in result["components"]["schemas"].items():
        # Request bodies refuse unknown fields (a misspelt field must not vanish); OwnTracks sends
        # many fields Närvaro ignores, so its message stays open.
        if name.endswith("Request") and name != "OwnTracksMessageRequest" and component.get("type") == "object":
            component["additionalProperties"] = False
    for item in result.get("paths", {}).values():
        for operation in item.values():
            operation.setdefault("responses", {}).setdefault(
                "4XX",
                {"description": "Refused: nothing was stored.", "content": {"application/json": {"schema": ERROR}}},
            )
    return result
