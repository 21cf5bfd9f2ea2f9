"""Channel-layer group names, from one place: ASCII, dotted, short.

Which groups an audience reaches is coordination.audience.Audience.groups.
"""

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
