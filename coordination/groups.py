"""Channel-layer group names, from one place: ASCII, dotted, short."""

PREFIX = "narvaro"


def group_name(*parts: str | int) -> str:
    """Return the group for `parts`, e.g. group_name("team", 3) == "narvaro.team.3"."""
    name = ".".join([PREFIX, *(str(p) for p in parts)])
    assert name.isascii() and len(name) < 100, name
    return name


PUBLIC = group_name("public")
OPS = group_name("ops")  # duty and partner sockets
DUTY = group_name("duty")  # duty sockets only (chat)
FIELD = group_name("field")  # field sockets


def groups_for_audience(audience: str) -> list[str]:
    """The groups an event of `audience` is sent to; consumers still check each viewer."""
    if audience == "public":
        return [PUBLIC, OPS, FIELD]
    if audience == "staff":
        return [OPS, FIELD]
    if audience == "ops":
        return [OPS]
    if audience == "field":
        return [FIELD]
    if audience == "chat.everyone":
        return [DUTY, FIELD]
    kind, _, target = audience.removeprefix("chat.").partition(".")
    if kind in ("team", "area") and target.isdigit():
        return [DUTY, group_name(kind, target)]
    raise ValueError(f"unknown audience {audience!r}")
