"""/api/docs/: a small page that lists the API from /api/schema/, served without any CDN.

drf-spectacular's Swagger UI and Redoc load their JavaScript from a CDN unless
drf-spectacular-sidecar is installed; it is not, and pages here load nothing from elsewhere.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_safe

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Närvaro API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
code, pre {{ font: 13px ui-monospace, monospace; }}
.op {{ border-top: 1px solid #ddd; padding: .5rem 0; }}
.method {{ display: inline-block; min-width: 4.5rem; font-weight: bold; }}
.params {{ color: #555; margin: .2rem 0 0 4.5rem; }}
</style></head><body>
<h1>Närvaro API</h1>
<p>The OpenAPI 3 schema: <a href="{schema}">{schema}</a> (YAML) or
<a href="{schema}?format=json">JSON</a>. Every operation, its parameters and responses are listed below
from that schema. Authenticate with your session or <code>Authorization: Bearer &lt;device token&gt;</code>.</p>
<div id="ops">Loading the schema…</div>
<script>
(async () => {{
  const target = document.getElementById("ops");
  const text = (value) => document.createTextNode(value == null ? "" : String(value));
  try {{
    const schema = await (await fetch("{schema}?format=json")).json();
    target.textContent = "";
    for (const [path, item] of Object.entries(schema.paths)) {{
      for (const [method, op] of Object.entries(item)) {{
        const row = document.createElement("div");
        row.className = "op";
        const verb = document.createElement("span");
        verb.className = "method";
        verb.append(text(method.toUpperCase()));
        const code = document.createElement("code");
        code.append(text(path));
        row.append(verb, code, text(" — " + (op.summary || op.operationId || "")));
        const params = (op.parameters || []).map((p) => p.name + (p.required ? "*" : "") + " (" + p.in + ")");
        const statuses = Object.keys(op.responses || {{}}).join(", ");
        const details = document.createElement("div");
        details.className = "params";
        const listed = params.length ? "parameters: " + params.join(", ") + "; " : "";
        details.append(text(listed + "responses: " + statuses));
        if (op.description) {{
          const description = document.createElement("div");
          description.append(text(op.description));
          details.append(description);
        }}
        row.append(details);
        target.append(row);
      }}
    }}
  }} catch (error) {{
    target.textContent = "Could not load the schema: " + error;
  }}
}})();
</script>
</body></html>
"""


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    """The browsable list of operations, built in the browser from the schema."""
    return HttpResponse(PAGE.format(schema=escape(reverse("api-schema"))))
