"""The staff report: one self-contained HTML page (inline CSS and SVG, no scripts, no fonts)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html import escape

from bot.hurdles import STATUSES, Hurdle, HurdleStore, Occurrence

REASON_COLOURS = {"no_topic": "#c0392b", "needs_place": "#e67e22", "outside_region": "#2980b9",
                  "negative_feedback": "#8e44ad"}
OTHER_COLOUR = "#7f8c8d"
MAX_BARS = 15
"""Bars per chart; the rest are summed into one 'other' bar so the page stays readable."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}
.muted{color:#666}.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:.5rem;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.8rem}
.bars{display:grid;grid-template-columns:minmax(10rem,max-content) 1fr;gap:.25rem .8rem;
align-items:center}
.track{background:#f0f0f0;border-radius:.25rem}
.bar{background:#2c7fb8;color:#fff;border-radius:.25rem;padding:.1rem .4rem;white-space:nowrap;
min-width:1.5rem;box-sizing:border-box;font-size:.85rem}
.bar.cross{background:#d95f0e}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.35rem .4rem;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.d{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.status{border-radius:1rem;padding:0 .5rem;background:#eee;white-space:nowrap}
.status.new{background:#fde2e1}.status.in_review{background:#fff1c2}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
details summary{cursor:pointer;color:#555}
@media print{details{display:block}}
"""


def _local(moment: datetime) -> datetime:
    return moment.astimezone()


def _day(moment: datetime) -> str:
    return _local(moment).strftime("%Y-%m-%d")


def _bars(counts: Counter[str], label: dict[str, str] | None = None,
          highlight: set[str] | None = None) -> str:
    """A horizontal bar chart in CSS grid: label, then a bar whose width is its share of the max."""
    if not counts:
        return '<p class="muted">Nothing logged in this period.</p>'
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > MAX_BARS:
        rest = sum(n for _, n in ranked[MAX_BARS - 1:])
        ranked = [*ranked[:MAX_BARS - 1], ("other", rest)]
    top = max(n for _, n in ranked)
    rows = []
    for key, n in ranked:
        name = (label or {}).get(key, key)
        cross = " cross" if highlight and key in highlight else ""
        rows.append(f'<div>{escape(name)}</div><div class="track"><div class="bar{cross}" '
                    f'style="width:{max(n / top * 100, 2):.1f}%">{n}</div></div>')
    return f'<div class="bars">{"".join(rows)}</div>'


def _week(moment: datetime) -> date:
    day = _local(moment).date()
    return day - timedelta(days=day.weekday())


def _timeline(occurrences: list[Occurrence]) -> str:
    """Logged questions per week (Monday) as stacked SVG columns, one colour per reason."""
    if not occurrences:
        return '<p class="muted">Nothing logged in this period.</p>'
    per_week: dict[date, Counter[str]] = {}
    first, last = _week(occurrences[0].ts), _week(occurrences[-1].ts)
    week = first
    while week <= last:
        per_week[week] = Counter()
        week += timedelta(days=7)
    for occ in occurrences:
        reason = occ.reason if occ.reason in REASON_COLOURS else "other"
        per_week[_week(occ.ts)][reason] += 1
    top = max(sum(c.values()) for c in per_week.values())
    width, height, pad = 760, 220, 30
    step = (width - pad) / len(per_week)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 40}" '
             f'width="100%" role="img" aria-label="Logged questions per week">',
             f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>',
             f'<text x="0" y="12" font-size="11" fill="#666">{top}</text>']
    label_every = max(1, len(per_week) // 12)
    for i, (week, counts) in enumerate(per_week.items()):
        x, y = pad + i * step, float(height)
        for reason in [*REASON_COLOURS, "other"]:
            n = counts.get(reason, 0)
            if not n:
                continue
            h = n / top * (height - 20)
            y -= h
            colour = REASON_COLOURS.get(reason, OTHER_COLOUR)
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>week of {week}: {n} '
                         f'{escape(reason)}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + 1:.1f}" y="{height + 16}" font-size="11" '
                         f'fill="#444">{week:%d.%m.}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{escape(r)}</span>' for r, c in
                     [*REASON_COLOURS.items(), ("other", OTHER_COLOUR)])
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def _hurdle_rows(hurdles: list[Hurdle]) -> str:
    if not hurdles:
        return '<p class="muted">No open hurdles. 🎉</p>'
    rows = []
    for h in hurdles:
        examples = "".join(f"<li>{escape(e)}</li>" for e in h.examples)
        note = f'<br><span class="muted">Note: {escape(h.note)}</span>' if h.note else ""
        rows.append(
            f"<tr><td class=n>{h.id}</td><td>{escape(h.title[:200])}{note}<details><summary>"
            f"{len(h.examples)} example(s)</summary><ul>{examples}</ul></details></td>"
            f"<td>{escape(h.topic or '–')}</td><td>{escape(h.reason)}</td>"
            f"<td class=n>{h.count}</td><td class=n>{h.askers}</td>"
            f"<td class=d>{_day(h.first_seen)}<br>{_day(h.last_seen)}</td>"
            f"<td>{escape(', '.join(h.district_pairs[:4]) or '–')}</td>"
            f"<td>{escape(', '.join(h.lands) or '–')}</td>"
            f'<td><span class="status {escape(h.status)}">{escape(h.status)}</span></td></tr>')
    head = ("<tr><th>#</th><th>Question (representative)</th><th>Topic</th><th>Reason</th>"
            "<th>Count</th><th>Askers</th><th>First / last seen</th><th>Districts</th>"
            "<th>Länder</th><th>Status</th></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def render(stats: dict, top_open: list[Hurdle], occurrences: list[Occurrence], *,
           generated: datetime | None = None, since: datetime | None = None,
           until: datetime | None = None) -> str:
    """The report page from already loaded data (pure, so it can be tested without a store)."""
    generated = generated or datetime.now(UTC)
    period = (f"{_day(since) if since else 'start of the log'} – "
              f"{_day(until - timedelta(microseconds=1)) if until else 'today'}")
    topics = Counter(o.topic or "(no topic)" for o in occurrences)
    paths = Counter(o.path for o in occurrences if o.path)
    cross = {o.path for o in occurrences if o.path and len(o.lands) > 1}
    statuses = Counter({s: n for s, n in stats["by_status"].items() if n})
    open_count = sum(stats["by_status"].get(s, 0) for s in ("new", "in_review"))
    cards = [("logged questions", len(occurrences)), ("distinct askers (whole log)",
             stats["askers"]), ("hurdles (whole log)", stats["hurdles"]),
             ("open hurdles", open_count), ("last 7 days", stats["last_7_days"])]
    card_html = "".join(f'<div class="card"><b>{n}</b>{escape(t)}</div>' for t, n in cards)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WeserBot hurdle report</title><style>{CSS}</style></head>
<body>
<h1>WeserBot hurdle report</h1>
<p class="muted">Questions people asked that the bot could not answer, grouped into hurdles.
Period: {escape(period)}. Generated {_local(generated):%Y-%m-%d %H:%M}.</p>
<div class="cards">{card_html}</div>
<h2 id="top">Top open hurdles</h2>
<p class="muted">Status new or in review, most frequent first. Set a status with
<code>weserbot hurdles set-status ID STATUS --note "…"</code>.</p>
{_hurdle_rows(top_open)}
<h2 id="topics">Logged questions by topic</h2>
{_bars(topics)}
<h2 id="districts">Logged questions by district pair</h2>
<p class="muted">Origin (where people live, or where a route starts) → the other district.
Orange: crosses the border between Lower Saxony and North Rhine-Westphalia.</p>
{_bars(paths, highlight=cross)}
<h2 id="time">Logged questions over time (per week)</h2>
{_timeline(occurrences)}
<h2 id="status">Hurdles by status</h2>
{_bars(statuses)}
<p class="muted">Statuses: {escape(", ".join(STATUSES))}.</p>
</body></html>
"""


async def build_report(store: HurdleStore, *, since: datetime | None = None,
                       until: datetime | None = None, top: int = 20) -> str:
    """Load what the report shows from the store and render it."""
    stats = await store.stats()
    top_open = await store.hurdles(open_only=True, since=since, until=until, limit=top)
    occurrences = await store.occurrences(since, until)
    return render(stats, top_open, occurrences, since=since, until=until)
