"""The staff report: one self-contained HTML page (inline CSS and SVG, no scripts, no fonts)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

from bot.grouping import land_pair
from bot.hurdles import STATUSES, Hurdle, HurdleStore, Occurrence
from bot.settings import setting
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.knowledge import KnowledgeBase

CAUSE_COLOURS = {"cross_border": "#d95f0e", "no_topic": "#c0392b", "no_place": "#e67e22",
                 "outside_region": "#2980b9", "office_unknown": "#16a085", "unhelpful": "#8e44ad"}
"""One colour per cause (bot.grouping.Cause), cross-border first."""
OTHER_COLOUR = "#7f8c8d"
MAX_BARS = setting("report_max_bars")

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
.bar.cross{background:#d95f0e}td.cross{color:#d95f0e;font-weight:600}
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


class _Words:
    """The report's texts (knowledge/texts.yaml, report.* and staff.*) in one language."""

    def __init__(self, texts: Texts, lang: str) -> None:
        self.texts, self.lang = texts, lang

    def __call__(self, key: str, **values: object) -> str:
        return self.texts.get(self.lang, key, **values)

    def label(self, group: str, key: str) -> str:
        return self(f"{group}.{key}") if self.texts.has(f"{group}.{key}") else key


def _local(moment: datetime) -> datetime:
    return moment.astimezone()


def _day(moment: datetime) -> str:
    return _local(moment).strftime("%Y-%m-%d")


def _bars(w: _Words, counts: Counter[str] | dict[str, int], label: dict[str, str] | None = None,
          highlight: set[str] | None = None, empty: str = "report.nothing",
          ordered: bool = False) -> str:
    """A horizontal bar chart in CSS grid: label, then a bar whose width is its share of the max.
    `ordered`: keep the given order (causes) instead of most frequent first."""
    if not counts:
        return f'<p class="muted">{escape(w(empty))}</p>'
    ranked = list(counts.items()) if ordered else sorted(counts.items(),
                                                          key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > MAX_BARS:
        rest = sum(n for _, n in ranked[MAX_BARS - 1:])
        ranked = [*ranked[:MAX_BARS - 1], (w("report.other"), rest)]
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


def _timeline(w: _Words, occurrences: list[Occurrence]) -> str:
    """Logged questions per week (Monday) as stacked SVG columns, one colour per cause."""
    if not occurrences:
        return f'<p class="muted">{escape(w("report.nothing"))}</p>'
    per_week: dict[date, Counter[str]] = {}
    first, last = _week(occurrences[0].ts), _week(occurrences[-1].ts)
    week = first
    while week <= last:
        per_week[week] = Counter()
        week += timedelta(days=7)
    for occ in occurrences:
        cause = occ.cause if occ.cause in CAUSE_COLOURS else "other"
        per_week[_week(occ.ts)][cause] += 1
    top = max(sum(c.values()) for c in per_week.values())
    width, height, pad = 760, 220, 30
    step = (width - pad) / len(per_week)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 40}" '
             f'width="100%" role="img" aria-label="{escape(w("report.per_week"))}">',
             f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>',
             f'<text x="0" y="12" font-size="11" fill="#666">{top}</text>']
    label_every = max(1, len(per_week) // 12)
    for i, (week, counts) in enumerate(per_week.items()):
        x, y = pad + i * step, float(height)
        for cause in [*CAUSE_COLOURS, "other"]:
            n = counts.get(cause, 0)
            if not n:
                continue
            h = n / top * (height - 20)
            y -= h
            colour = CAUSE_COLOURS.get(cause, OTHER_COLOUR)
            what = w.label("staff.cause", cause) if cause != "other" else w("report.other")
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>'
                         f'{escape(w("report.week_of", week=week, count=n, what=what))}'
                         f'</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + 1:.1f}" y="{height + 16}" font-size="11" '
                         f'fill="#444">{week:%d.%m.}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{escape(w.label("staff.cause", r))}'
                     f'</span>' for r, c in CAUSE_COLOURS.items())
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def _hurdle_rows(w: _Words, hurdles: list[Hurdle], topic_names: dict[str, str]) -> str:
    if not hurdles:
        return f'<p class="muted">{escape(w("report.no_open"))}</p>'
    rows = []
    for h in hurdles:
        examples = "".join(f"<li>{escape(e)}</li>" for e in h.examples)
        note = (f'<br><span class="muted">{escape(w("report.note", note=h.note))}</span>'
                if h.note else "")
        if h.answer:
            note += f'<br><span class="muted">{escape(w("report.answer", answer=h.answer))}</span>'
        cause = w.label("staff.cause", h.cause) if h.cause else "–"
        cross = ' class="cross"' if h.cause == "cross_border" else ""
        rows.append(
            f"<tr><td class=n>{h.id}</td><td>{escape(h.title[:200])}{note}<details><summary>"
            f"{escape(w('report.examples', count=len(h.examples)))}</summary><ul>{examples}</ul>"
            f"</details></td><td{cross}>{escape(cause)}</td>"
            f"<td>{escape(topic_names.get(h.topic or '', h.topic or '–'))}</td>"
            f"<td class=n>{h.count}</td><td class=n>{h.askers}</td>"
            f"<td class=d>{_day(h.first_seen)}<br>{_day(h.last_seen)}</td>"
            f"<td>{escape(', '.join(h.district_pairs[:4]) or '–')}</td>"
            f"<td>{escape(', '.join(h.lands) or '–')}</td>"
            f'<td><span class="status {escape(h.status)}">'
            f'{escape(w.label("staff.status", h.status))}</span></td></tr>')
    head = "".join(f"<th>{escape(w(f'report.col.{c}'))}</th>" for c in
                   ("id", "question", "cause", "topic", "count", "askers", "seen", "districts",
                    "lands", "status"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render(stats: dict, top_open: list[Hurdle], occurrences: list[Occurrence], *,
           generated: datetime | None = None, since: datetime | None = None,
           until: datetime | None = None, texts: Texts | None = None, lang: str = "de",
           topic_names: dict[str, str] | None = None) -> str:
    """The report page from already loaded data (pure, so it can be tested without a store).
    In the staff's language (`lang`, German by default); cross-border hurdles come first."""
    w = _Words(texts or _bundled_texts(), lang)
    generated = generated or datetime.now(UTC)
    period = (f"{_day(since) if since else w('report.start')} – "
              f"{_day(until - timedelta(microseconds=1)) if until else w('report.today')}")
    topics = Counter((topic_names or {}).get(o.topic or "", o.topic) if o.topic
                     else w("report.no_topic") for o in occurrences)
    paths = Counter(o.path for o in occurrences if o.path)
    cross = {o.path for o in occurrences if o.path and len(o.lands) > 1}
    crossing = [o for o in occurrences if o.cause == "cross_border"]
    cross_paths = Counter(o.path for o in crossing if "→" in o.path)
    cross_lands = Counter(land_pair(o.lands) for o in crossing if land_pair(o.lands))
    by_cause = Counter(o.cause for o in occurrences if o.cause)
    causes = {w.label("staff.cause", c): by_cause[c] for c in CAUSE_COLOURS if by_cause[c]}
    statuses = {w.label("staff.status", s): n for s, n in stats["by_status"].items() if n}
    open_count = sum(stats["by_status"].get(s, 0) for s in ("new", "in_review"))
    cards = [("report.card.logged", len(occurrences)), ("report.card.cross", len(crossing)),
             ("report.card.askers", stats["askers"]), ("report.card.hurdles", stats["hurdles"]),
             ("report.card.open", open_count), ("report.card.week", stats["last_7_days"])]
    card_html = "".join(f'<div class="card"><b>{n}</b>{escape(w(t))}</div>' for t, n in cards)
    intro = w("report.intro", period=period, generated=f"{_local(generated):%Y-%m-%d %H:%M}")
    status_names = ", ".join(w.label("staff.status", s) for s in STATUSES)
    return f"""<!DOCTYPE html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(w("report.title"))}</title><style>{CSS}</style></head>
<body>
<h1>{escape(w("report.title"))}</h1>
<p class="muted">{escape(intro)}</p>
<div class="cards">{card_html}</div>
<h2 id="cross">{escape(w("report.cross"))}</h2>
<p class="muted">{escape(w("report.cross_note"))}</p>
<h3>{escape(w("report.cross_districts"))}</h3>
{_bars(w, cross_paths, highlight=set(cross_paths), empty="report.no_cross")}
<h3>{escape(w("report.cross_lands"))}</h3>
{_bars(w, cross_lands, highlight=set(cross_lands), empty="report.no_cross")}
<h2 id="causes">{escape(w("report.causes"))}</h2>
{_bars(w, causes, highlight={w.label("staff.cause", "cross_border")}, ordered=True)}
<h2 id="top">{escape(w("report.top"))}</h2>
<p class="muted">{escape(w("report.top_note"))}</p>
{_hurdle_rows(w, top_open, topic_names or {})}
<h2 id="topics">{escape(w("report.topics"))}</h2>
{_bars(w, topics)}
<h2 id="districts">{escape(w("report.districts"))}</h2>
<p class="muted">{escape(w("report.districts_note"))}</p>
{_bars(w, paths, highlight=cross)}
<h2 id="time">{escape(w("report.time"))}</h2>
{_timeline(w, occurrences)}
<h2 id="status">{escape(w("report.status"))}</h2>
{_bars(w, statuses)}
<p class="muted">{escape(w("report.statuses", statuses=status_names))}</p>
</body></html>
"""


@lru_cache(maxsize=1)
def _bundled_texts() -> Texts:
    from bot.knowledge import load_knowledge

    return load_knowledge().texts


async def build_report(store: HurdleStore, *, since: datetime | None = None,
                       until: datetime | None = None, top: int = 20, lang: str = "de",
                       kb: KnowledgeBase | None = None) -> str:
    """Load what the report shows from the store and render it (texts and topic titles from
    `kb`, by default the bundled knowledge base)."""
    stats = await store.stats()
    top_open = await store.hurdles(open_only=True, since=since, until=until, limit=top)
    occurrences = await store.occurrences(since, until)
    texts = kb.texts if kb is not None else _bundled_texts()
    names = {t.id: t.title.get(lang, t.id) for t in kb.topics.values()} if kb is not None else {}
    return render(stats, top_open, occurrences, since=since, until=until, texts=texts, lang=lang,
                  topic_names=names)
