"""The front end's source: one rule per event kind, text only through the catalog, no copied blocks.

These read static/ as files (and run live.js in Node); what the pages do is tested in tests/browser.
"""

import json
import re
import subprocess
from pathlib import Path

from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
APPLICATION_JS = sorted(STATIC.rglob("*.js"))
LONGEST_REPEAT = 10  # lines a block may have and still stand twice


def node_import(module: Path, expression: str):
    """Import `module` in Node (no browser) and return the JSON of `expression` over its exports `m`."""
    script = f"import({json.dumps(str(module))}).then((m) => console.log(JSON.stringify({expression})))"
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(result.stdout)


def protocol_kinds() -> set[str]:
    """The event kinds in docs/protocol.md's table of events."""
    text = (ROOT / "docs" / "protocol.md").read_text()
    table = text[text.index("| kind | audience") :].split("\n\n")[0]
    return {kind for row in table.splitlines()[2:] for kind in re.findall(r"`(\w+)`", row.split("|")[1])}


def test_live_js_imports_in_node_with_a_rule_for_every_kind_in_the_protocol():
    rules = node_import(STATIC / "js" / "live.js", "m.RULES")
    assert set(rules) == protocol_kinds()
    assert {rule["rule"] for rule in rules.values()} == {
        "team",
        "positions",
        "upsert",
        "remove",
        "activity",
        "coverage",
        "history",
    }
    assert all(set(rule) <= {"rule", "layer"} for rule in rules.values())


def test_live_js_knows_the_servers_audiences_and_parses_a_chat_channel():
    audiences = node_import(
        STATIC / "js" / "live.js",
        '[Object.keys(m.AUDIENCES), ["chat.team.3", "ops", "chat.area.x", "team.3", "user.7"].map(m.parseAudience)]',
    )
    assert audiences == [
        ["public", "staff", "ops", "field", "chat.everyone", "chat.team.<id>", "chat.area.<id>"],
        [
            {"audience": "chat.team.<id>", "kind": "team", "id": 3},
            {"audience": "ops", "kind": "ops", "id": None},
            None,
            None,
            None,
        ],
    ]


def js_msgids() -> set[str]:
    found = set()
    for path in APPLICATION_JS:
        source = path.read_text()
        # makemessages only finds literal msgids: a call with anything else would go untranslated.
        calls = re.findall(r"\bn?gettext\((\s*[^)\s]?)", source)
        assert all(arg.lstrip().startswith('"') for arg in calls if path.name != "i18n.js"), path
        found |= set(re.findall(r'\bn?gettext\(\s*"([^"]+)"', source))
    return found


def test_every_text_the_scripts_translate_has_its_english_in_the_javascript_catalog():
    """Needs the compiled catalogue (make messages, which make test runs first)."""
    view = JavaScriptCatalog()
    view.translation = DjangoTranslation("en", domain="djangojs")
    catalog = view.get_catalog()
    assert js_msgids() <= set(catalog)
    assert catalog["Ansluten"] == "Connected"
    assert catalog["%(n)s vuxen ute"] == ["%(n)s adult out", "%(n)s adults out"]


def test_the_views_pass_no_strings_to_the_scripts():
    for view in (ROOT / "coordination" / "views.py", ROOT / "coordination" / "activity_views.py"):
        assert "_strings" not in view.read_text(), view


def imports(module: Path) -> set[Path]:
    """`module` and every module it imports, directly or not."""
    found = {module}
    for name in re.findall(r'^import .* from "(.+)";$', module.read_text(), re.M):
        found |= imports((module.parent / name).resolve())
    return found


def test_the_service_worker_keeps_every_module_the_field_page_loads_and_nothing_it_never_loads():
    from django.test import RequestFactory

    from coordination.views import field_service_worker

    worker = field_service_worker(RequestFactory().get("/falt/sw.js")).content.decode()
    for module in imports(STATIC / "coordination" / "field.js"):
        assert f'"/static/{module.relative_to(STATIC)}"' in worker, module
    assert '"/jsi18n/"' in worker and '"/static/leaflet/leaflet.js"' in worker
    # django-leaflet loads the 448 KB unminified copy only with a DEBUG context variable we never set.
    shell = re.search(r"const SHELL = \[(.*?)\];", worker).group(1)
    assert "leaflet-src.js" not in shell


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of the code in `path`, names replaced by one placeholder."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith(("//", "/*", "*")):
            lines.append((number, re.sub(r"[A-Za-z_$][\w$]*", "N", line)))
    return lines


def test_no_block_of_more_than_ten_lines_stands_twice_in_the_application_js():
    """Not even with only its names changed: a block that long belongs in a shared module."""
    length = LONGEST_REPEAT + 1
    first_seen: dict[tuple[str, ...], tuple[str, int]] = {}
    repeated = []
    for path in APPLICATION_JS:
        lines = code_lines(path)
        for start in range(len(lines) - length + 1):
            block = tuple(line for _, line in lines[start : start + length])
            where = (str(path.relative_to(ROOT)), lines[start][0])
            if block in first_seen:
                repeated.append((first_seen[block], where))
            else:
                first_seen[block] = where
    assert repeated == []
