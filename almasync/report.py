"""The institution report: a static HTML site of the configuration, for colleagues who
never read YAML.

The site is plain files: every page carries its own CSS and the one small script that
sorts tables, links only to pages and anchors of the site, and fetches nothing. It is built
from a :class:`Snapshot` (resources by kind, as the config tree declares them or as Alma
holds them) and, optionally, a drift report (``drift --format json``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from almasync.kinds.secrets import is_credential
from almasync.model import Fields, Key, Kind, format_key
from almasync.utilities import OpenDay, month_pages

HIDDEN = "(not shown)"
#: How many calendar months the open-hours calendar shows, from the current one.
CALENDAR_MONTHS = 3
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass
class Snapshot:
    """What the report shows. ``resources`` by kind and key; ``libraries`` names by code
    and ``desks`` circulation desks by library (read live only); ``open_days`` Alma's
    computed calendar by library (read live only; else computed from the open-hours
    entries)."""

    source: str
    resources: Mapping[Kind, Mapping[Key, Fields]]
    libraries: Mapping[str, str] = field(default_factory=dict)
    desks: Mapping[str, list[dict[str, str]]] = field(default_factory=dict)
    open_days: Mapping[str, list[OpenDay]] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)

    def of(self, kind: Kind) -> Mapping[Key, Fields]:
        return self.resources.get(kind, {})


# -- page frame ----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430}
header{background:#1f3b57;color:#fff;padding:.6em 1.2em}
header a{color:#fff;margin-right:1em;text-decoration:none}
header a.here{text-decoration:underline}
main{padding:1em 1.5em;max-width:80em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #c8d0da;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef2f6}
table.sortable th{cursor:pointer}
table.sortable th::after{content:" \\2195";color:#8a96a3}
pre{background:#f6f8fa;border:1px solid #d8dee4;padding:.8em;overflow:auto}
details{margin:.2em 0 .2em 1em}summary{cursor:pointer}
.muted{color:#6a7480}.closed{background:#f3e3e3}.open{background:#e3f3e6}
.calendar td{width:6.5em;height:3.2em;font-size:.85em}
.calendar td.out{background:#fff;border:none}
.create{color:#1a7f37}.delete{color:#cf222e}.update{color:#9a6700}
footer{padding:1em 1.5em;color:#6a7480;font-size:.85em}
"""

_SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function(table){
  table.querySelectorAll("th").forEach(function(th, col){
    th.addEventListener("click", function(){
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("data-order") !== "asc";
      table.querySelectorAll("th").forEach(function(o){ o.removeAttribute("data-order"); });
      th.setAttribute("data-order", up ? "asc" : "desc");
      rows.sort(function(a, b){
        var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return up ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def slug(text: str) -> str:
    """A file- and anchor-safe name; distinct texts stay distinct."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "x"
    if cleaned != text:
        cleaned += "-" + format(sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 65521, "x")
    return cleaned


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    body: str


def _nav(pages: Iterable[tuple[str, str]], here: str, depth: int) -> str:
    up = "../" * depth
    return "".join(f'<a href="{up}{path}"{" class=here" if path == here else ""}>{esc(t)}</a>'
                   for path, t in pages)


def render(page: Page, nav: list[tuple[str, str]], source: str, generated: str) -> str:
    depth = page.path.count("/")
    section = page.path if depth == 0 else page.path.split("/")[0] + ".html"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(page.title)} - almasync report</title><style>{_CSS}</style></head>"
        f"<body><header><nav>{_nav(nav, section, depth)}</nav></header>"
        f"<main><h1>{esc(page.title)}</h1>\n{page.body}\n</main>"
        f"<footer>Source: {esc(source)}. Generated {esc(generated)} by almasync.</footer>"
        f"<script>{_SORT_JS}</script></body></html>\n"
    )


def table(headers: list[str], rows: list[list[str]], *, sortable: bool = True,
          raw: bool = False, css: str = "") -> str:
    """An HTML table; cells are escaped unless ``raw``."""
    if not rows:
        return '<p class="muted">None.</p>'
    cls = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    return "" if value is None else str(value)


# -- the pages -------------------------------------------------------------------------


def _kind(name: str) -> Kind | None:
    """A kind by its singular name, when this almasync has it."""
    return next((k for k in Kind if k.value == name), None)


def _libraries_page(snap: Snapshot) -> Page:
    locations: dict[str, dict[str, Fields]] = {}
    for key, fields in snap.of(Kind.LOCATION).items():
        locations.setdefault(key[0], {})[key[1]] = fields
    desks: dict[str, list[Mapping[str, Any]]] = {lib: list(d) for lib, d in snap.desks.items()}
    desk_kind = _kind("circulation_desk") or _kind("circ_desk")
    if desk_kind is not None:
        for key, fields in snap.of(desk_kind).items():
            desks.setdefault(key[0], []).append({"code": key[-1], **fields})
    names = dict(snap.libraries)
    library_kind = _kind("library")
    if library_kind is not None:
        names.update({key[0]: str(f["name"]) for key, f in snap.of(library_kind).items()
                      if f.get("name")})
    codes = sorted(set(locations) | set(desks) | set(names))
    parts = ['<p>Each library, its fulfillment units with the locations in them, and its '
             'circulation desks. Click to open or close a branch.</p>']
    for lib in codes:
        title = f"{lib} - {names[lib]}" if names.get(lib) else lib
        units: dict[str, list[tuple[str, Fields]]] = {}
        for code, fields in sorted(locations.get(lib, {}).items()):
            units.setdefault(str(fields.get("fulfillment_unit") or "(none)"), []).append(
                (code, fields))
        inner = []
        for unit, members in sorted(units.items()):
            items = "".join(
                f'<li id="loc-{esc(slug(lib + "-" + code))}"><b>{esc(code)}</b> '
                f'{esc(f.get("name", ""))} <span class="muted">({esc(show(f.get("type")))}'
                f'{", suppressed" if f.get("suppress_from_publishing") is True else ""})'
                '</span></li>' for code, f in members)
            inner.append(f"<details open><summary>Fulfillment unit {esc(unit)} "
                         f"({len(members)} locations)</summary><ul>{items}</ul></details>")
        lib_desks = desks.get(lib, [])
        if lib_desks:
            items = "".join(f"<li><b>{esc(d.get('code'))}</b> {esc(d.get('name', ''))}</li>"
                            for d in sorted(lib_desks, key=lambda d: str(d.get("code"))))
            inner.append(f"<details open><summary>Circulation desks ({len(lib_desks)})"
                         f"</summary><ul>{items}</ul></details>")
        if not inner:
            inner.append('<p class="muted">No locations or desks.</p>')
        parts.append(f'<details open id="lib-{esc(slug(lib))}"><summary><b>{esc(title)}'
                     f'</b></summary>{"".join(inner)}</details>')
    if not codes:
        parts.append('<p class="muted">No libraries.</p>')
    rows = [[lib, code, str(f.get("name", "")), show(f.get("type")),
             show(f.get("fulfillment_unit")), show(f.get("external_name"))]
            for lib, locs in sorted(locations.items()) for code, f in sorted(locs.items())]
    parts.append("<h2>All locations</h2>" + table(
        ["Library", "Location", "Name", "Type", "Fulfillment unit", "External name"], rows))
    return Page("libraries.html", "Libraries and locations", "\n".join(parts))


def _rows_table(rows: list[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return table(columns, [[show(row.get(c)) for c in columns] for row in rows])


def _tables_page(snap: Snapshot, kind: Kind, path: str, title: str, intro: str) -> Page:
    resources = sorted(snap.of(kind).items())
    toc = "".join(f'<li><a href="#{esc(slug(format_key(key)))}">{esc(format_key(key))}</a> '
                  f'<span class="muted">({len(f.get("rows") or [])} rows)</span></li>'
                  for key, f in resources)
    parts = [f"<p>{esc(intro)} Click a column heading to sort.</p>",
             f"<ul>{toc}</ul>" if toc else '<p class="muted">None.</p>']
    for key, fields in resources:
        extra = {k: v for k, v in fields.items() if k != "rows"}
        meta = f'<p class="muted">{esc(show(extra))}</p>' if extra else ""
        parts.append(f'<h2 id="{esc(slug(format_key(key)))}">{esc(format_key(key))}</h2>'
                     + meta + _rows_table(list(fields.get("rows") or [])))
    return Page(path, title, "\n".join(parts))


def _letters_pages(snap: Snapshot) -> list[Page]:
    letters = sorted(snap.of(Kind.LETTER).items())
    rows, pages = [], []
    for key, fields in letters:
        name = format_key(key)
        file = f"letters/{slug(name)}.html"
        rows.append([f'<a href="{esc(file)}">{esc(name)}</a>',
                     esc(show(fields.get("enabled"))),
                     esc("yes" if fields.get("xsl") else "no"),
                     esc(len(fields.get("labels") or {}))])
        body = ['<p><a href="../letters.html">All letters</a></p>',
                table(["Field", "Value"], [[k, show(v)] for k, v in sorted(fields.items())
                                           if k not in ("xsl", "labels")], sortable=False)]
        labels = fields.get("labels") or {}
        if labels:
            body.append("<h2>Labels</h2>" + table(
                ["Label", "Text"], [[str(k), show(v)] for k, v in sorted(labels.items())]))
        body.append("<h2>Template</h2>" + (f"<pre>{esc(fields['xsl'])}</pre>"
                                           if fields.get("xsl") else
                                           '<p class="muted">Alma\'s own template.</p>'))
        pages.append(Page(file, f"Letter {name}", "\n".join(body)))
    index = Page("letters.html", "Letters", "<p>Each letter, whether it is sent, and its "
                 "template.</p>" + table(["Letter", "Enabled", "Own template", "Labels"],
                                         rows, raw=True))
    return [index, *pages]


def _masked(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: HIDDEN if is_credential(k) and v not in (None, "") else _masked(v)
                for k, v in params.items()}
    if isinstance(params, list):
        return [_masked(v) for v in params]
    return params


def _profiles_page(snap: Snapshot) -> Page:
    parts = ["<p>Integration profiles. Credentials (passwords, secrets, tokens, keys) are "
             "never shown.</p>"]
    rows = [[f'<a href="#{esc(slug(format_key(k)))}">{esc(format_key(k))}</a>',
             esc(show(f.get("type"))), esc(show(f.get("system"))),
             esc(show(f.get("description")))]
            for k, f in sorted(snap.of(Kind.INTEGRATION_PROFILE).items())]
    parts.append(table(["Code", "Type", "System", "Description"], rows, raw=True))
    for key, fields in sorted(snap.of(Kind.INTEGRATION_PROFILE).items()):
        safe = _masked(dict(fields))
        params = safe.pop("parameters", None) or {}
        parts.append(f'<h2 id="{esc(slug(format_key(key)))}">{esc(format_key(key))}</h2>')
        parts.append(table(["Field", "Value"], [[k, show(v)] for k, v in sorted(safe.items())],
                           sortable=False))
        prow = []
        for action, values in sorted(params.items()) if isinstance(params, dict) else []:
            for name, value in sorted((values or {}).items()):
                prow.append([str(action), str(name), show(value)])
        if prow:
            parts.append(table(["Action", "Parameter", "Value"], prow))
    return Page("profiles.html", "Integration profiles", "\n".join(parts))


# -- open hours ------------------------------------------------------------------------


def computed_days(entries: list[Mapping[str, Any]], first: dt.date,
                  last: dt.date) -> list[OpenDay]:
    """Open days from open-hours entries: an exception wins over the standard hours valid
    that day; events change no hours. Alma's own computation (``almasync hours``) is the
    reference; this is what the declared entries say."""
    days = []
    day = first
    while day <= last:
        iso = day.isoformat()
        weekday = WEEKDAYS[day.weekday()]

        def valid(e: Mapping[str, Any], iso: str = iso) -> bool:
            return str(e.get("from_date") or "")[:10] <= iso <= str(
                e.get("to_date") or "9999")[:10]
        chosen = [e for e in entries if e.get("type") == "EXCEPTION" and valid(e)] or [
            e for e in entries if e.get("type") == "WEEK" and e.get("day") == weekday
            and valid(e)]
        hours: tuple[tuple[str, str], ...] = ()
        if not any(e.get("status") == "CLOSE" for e in chosen):
            hours = tuple((str(e.get("from_hour", "")), str(e.get("to_hour", "")))
                          for e in chosen if e.get("status", "OPEN") == "OPEN")
        days.append(OpenDay(day, weekday, hours))
        day += dt.timedelta(days=1)
    return days


def calendar_range(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    year, month = first.year, first.month + CALENDAR_MONTHS
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return first, dt.date(year, month, 1) - dt.timedelta(days=1)


def _month_grid(days: Mapping[dt.date, OpenDay], first: dt.date, last: dt.date) -> str:
    head = "".join(f"<th>{d.title()[:3]}</th>" for d in WEEKDAYS)
    cells = ['<td class="out"></td>'] * first.weekday()
    day = first
    while day <= last:
        found = days.get(day)
        if found is None:
            cells.append(f'<td class="muted">{day.day}</td>')
        else:
            text = "<br>".join(f"{esc(a)}-{esc(b)}" for a, b in found.hours) or "closed"
            cells.append(f'<td class="{"open" if found.is_open else "closed"}" '
                         f'title="{day.isoformat()}"><b>{day.day}</b><br>{text}</td>')
        day += dt.timedelta(days=1)
    rows = ["".join(cells[i:i + 7]) for i in range(0, len(cells), 7)]
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return (f"<h3>{first.strftime('%B %Y')}</h3><table class=\"calendar\"><thead><tr>{head}"
            f"</tr></thead><tbody>{body}</tbody></table>")


def _hours_pages(snap: Snapshot) -> list[Page]:
    scopes = {key[0]: list(f.get("open_hour") or []) for key, f in
              snap.of(Kind.OPEN_HOURS).items()}
    calendars = set(scopes) | set(snap.open_days)
    first, last = calendar_range(snap.today)
    index_rows, pages = [], []
    for scope in sorted(calendars):
        entries = scopes.get(scope, [])
        file = f"hours/{slug(scope)}.html"
        if scope in snap.open_days:
            days = snap.open_days[scope]
            how = "as Alma computes them (its open-days calendar)"
        else:
            days = computed_days(entries, first, last)
            how = ("from the entries below: an exception wins over the standard hours of "
                   "that weekday; events change no hours (run `almasync hours` for Alma's "
                   "own calendar)")
        by_day = {d.date: d for d in days}
        body = ['<p><a href="../hours.html">All calendars</a></p>',
                f"<p>Opening days {esc(how)}.</p>"]
        for page_first, page_last in month_pages(first, last):
            body.append(_month_grid(by_day, page_first, page_last))
        rows = [[show(e.get("type")), show(e.get("day")), show(e.get("from_date")),
                 show(e.get("to_date")), show(e.get("from_hour")), show(e.get("to_hour")),
                 show(e.get("status")), show(e.get("desc"))] for e in entries]
        body.append("<h2>Entries</h2>" + table(
            ["Type", "Day", "From", "To", "Opens", "Closes", "Status", "Description"], rows))
        pages.append(Page(file, f"Open hours of {scope}", "\n".join(body)))
        opened = sum(1 for d in days if d.is_open)
        index_rows.append([f'<a href="{esc(file)}">{esc(scope)}</a>', esc(len(entries)),
                           esc(f"{opened} of {len(days)}")])
    index = Page("hours.html", "Open hours", "<p>Each calendar (the institution's and each "
                 f"library's) for {first.strftime('%B %Y')} to {last.strftime('%B %Y')}.</p>"
                 + table(["Scope", "Entries", "Open days shown"], index_rows, raw=True))
    return [index, *pages]


# -- the rest --------------------------------------------------------------------------


#: Kinds with a page of their own; libraries and circulation desks are in the libraries tree.
_SPECIAL = {Kind.LOCATION, Kind.CODE_TABLE, Kind.MAPPING_TABLE, Kind.LETTER,
            Kind.INTEGRATION_PROFILE, Kind.OPEN_HOURS, Kind.LIBRARY, Kind.CIRC_DESK}


def _generic_page(snap: Snapshot, kind: Kind) -> Page:
    resources = sorted(snap.of(kind).items())
    columns: list[str] = []
    for _, fields in resources:
        columns += [c for c in fields if c not in columns]
    rows = [[format_key(key), *[show(_masked(f.get(c))) for c in columns]]
            for key, f in resources]
    title = kind.config_key.replace("_", " ").capitalize()
    return Page(f"{slug(kind.config_key)}.html", title, table(["Key", *columns], rows))


def _drift_page(drift: Mapping[str, Any]) -> Page:
    summary = drift.get("summary") or {}
    changes = list(drift.get("changes") or [])
    unmanaged = list(drift.get("unmanaged") or [])
    label = (drift.get("target") or {}).get("label", "")
    total = sum(int(v) for v in summary.values() if isinstance(v, int))
    parts = [f"<p>Drift report of {esc(label) or 'an institution'}: "
             f"{esc(total)} differences, {esc(len(unmanaged))} resources no file declares.</p>"]
    rows = []
    for change in changes:
        action = str(change.get("action", ""))
        details = "; ".join(
            f"{d.get('path')}: {show(d.get('before'))} \u2192 {show(d.get('after'))}"
            if isinstance(d, dict) else show(d) for d in change.get("diff") or [])
        rows.append([f'<span class="{esc(action)}">{esc(action)}</span>',
                     esc(change.get("kind")), esc(change.get("key")),
                     esc(details)])
    parts.append("<h2>Differences</h2><p>Each detail reads: field: in Alma \u2192 in the "
                 "files.</p>" + table(["Change", "Kind", "Key", "Details"], rows, raw=True))
    parts.append("<h2>Not declared in any file</h2>" + table(
        ["Kind", "Key"], [[str(u.get("kind")), str(u.get("key"))] for u in unmanaged]))
    return Page("drift.html", "Last drift", "\n".join(parts))


def build_site(snap: Snapshot, drift: Mapping[str, Any] | None = None,
               generated: str | None = None) -> dict[str, str]:
    """Every page of the site by relative path."""
    pages: list[Page] = [_libraries_page(snap)]
    pages.append(_tables_page(snap, Kind.CODE_TABLE, "code-tables.html", "Code tables",
                              "Code tables: the values Alma offers in its lists."))
    pages.append(_tables_page(snap, Kind.MAPPING_TABLE, "mapping-tables.html",
                              "Mapping tables", "Mapping tables: how Alma translates one "
                              "value into another."))
    pages += _letters_pages(snap)
    pages += _hours_pages(snap)
    pages.append(_profiles_page(snap))
    others = [k for k in Kind if k not in _SPECIAL and snap.of(k)]
    pages += [_generic_page(snap, k) for k in others]
    if drift is not None:
        pages.append(_drift_page(drift))
    top = [p for p in pages if "/" not in p.path]
    nav = [("index.html", "Overview"), *[(p.path, p.title) for p in top]]
    counts = [[f'<a href="{esc(p.path)}">{esc(p.title)}</a>', esc(_count(snap, p.path))]
              for p in top]
    index = Page("index.html", "Institution configuration",
                 f"<p>The configuration of {esc(snap.source)}, as of {esc(snap.today)}.</p>"
                 + table(["Section", "Entries"], counts, raw=True, sortable=False))
    stamp = generated or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {p.path: render(p, nav, snap.source, stamp) for p in [index, *pages]}


def _count(snap: Snapshot, path: str) -> str:
    by_path: dict[str, Kind] = {
        "libraries.html": Kind.LOCATION, "code-tables.html": Kind.CODE_TABLE,
        "mapping-tables.html": Kind.MAPPING_TABLE, "letters.html": Kind.LETTER,
        "hours.html": Kind.OPEN_HOURS, "profiles.html": Kind.INTEGRATION_PROFILE,
    }
    for kind in Kind:
        by_path.setdefault(f"{slug(kind.config_key)}.html", kind)
    found = by_path.get(path)
    return str(len(snap.of(found))) if found else ""


def load_drift(text: str, name: str) -> dict[str, Any]:
    from almasync.errors import UsageError

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--drift {name}: not JSON ({exc}); give the output of "
                         "`almasync drift --format json`") from None
    if not isinstance(data, dict) or "changes" not in data:
        raise UsageError(f"--drift {name}: not a drift report; give the output of "
                         "`almasync drift --format json`")
    return data
