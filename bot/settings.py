"""Named settings: every tunable threshold and limit of the bot in one documented table.

A module takes its value once, at import (`TOPIC_ASK = setting("topic_ask")`), so hot paths read
plain globals. Fixed facts (Telegram's 4096-character limit, schema versions, file names) are no
settings and stay where they are used. This module imports nothing from bot or handlers: anyone
may import it. `weserbot settings` prints the table; README.md carries it as Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

Value = int | float


class Area(StrEnum):
    """The part of the bot a setting tunes."""

    UNDERSTANDING = "understanding"
    PLACES = "places"
    ANSWERS = "answers"
    HURDLES = "hurdles"
    TELEGRAM = "telegram"
    STORAGE = "storage"
    SECURITY = "security"


@dataclass(frozen=True)
class Setting:
    """One threshold or limit: its name, default value, unit, area and what it decides."""

    name: str
    default: Value
    unit: str
    area: Area
    help: str


_U, _P, _A, _H, _T, _D, _S = (Area.UNDERSTANDING, Area.PLACES, Area.ANSWERS, Area.HURDLES,
                              Area.TELEGRAM, Area.STORAGE, Area.SECURITY)

SETTINGS: tuple[Setting, ...] = (
    # -- understanding a message ------------------------------------------------------------------
    Setting("max_chars", 2000, "characters", _U,
            "Longer messages are cut before matching: no question needs more, and cost must stay "
            "bounded."),
    Setting("topic_min_score", 0.6, "score 0..1", _U,
            "Below this best-phrase score no topic is claimed: asking back beats a wrong office."),
    Setting("topic_close", 0.08, "score 0..1", _U,
            "A runner-up within this distance of the best topic is offered as an alternative."),
    Setting("topic_ask", 0.05, "score 0..1", _U,
            "A runner-up within this distance of the best score (and explaining topic_ask_coverage "
            "of it) makes the bot ask which topic is meant (\"Meinten Sie …?\") instead of "
            "answering the best one, when the two answers differ."),
    Setting("topic_ask_coverage", 0.75, "share 0..1", _U,
            "Share of what the best topic's words explain that a runner-up within topic_ask must "
            "explain for the bot to ask which topic is meant."),
    Setting("fuzzy_token_similarity", 0.85, "score 0..1", _U,
            "What a word one slip away from a topic word counts (0.05 less per further slip)."),
    Setting("compound_part_similarity", 0.9, "score 0..1", _U,
            "What each part of a compound counts when the topics share all its parts; a typo "
            "reading that beats a split scoring less than this is taken instead "
            "(\"schwerbehindertausweis\")."),
    Setting("stray_part_similarity", 0.5, "score 0..1", _U,
            "Parts of a compound that no topic explains as a whole (\"Hunde|führerschein\" is "
            "neither dog tax nor driving licence) count this much: below topic_min_score, so they "
            "alone never claim a topic."),
    Setting("move_similarity", 0.8, "score 0..1", _U,
            "A move told in other words counts a little less than the word 'Umzug' itself."),
    Setting("lookback", 6, "words", _U,
            "How many words before a place are searched for the word that gives it a role."),
    Setting("lookahead", 4, "words", _U,
            "How many words after a place are searched for the word that gives it a role, when "
            "none is found before it."),
    Setting("lowercase_context", 0.9, "share 0..1", _U,
            "Share of lower-case words from which a capital letter is a deliberate cue "
            "(\"wohne in Lage\")."),
    Setting("min_fuzzy_length", 5, "letters", _U,
            "Shorter words are matched exactly only: one edit in four letters is a different word."),
    Setting("min_compound_part", 4, "letters", _U,
            "Shortest word a compound is split into (\"Wohngeld|stelle\", \"Kita|platz\")."),
    Setting("typo_max_zipf", 2.0, "Zipf", _U,
            "A word at least this frequent (Zipf scale: 3 = once per million words) is a real word, "
            "never a typo of a place name; real typos (\"hamlen\", \"holzmindn\") are rare or "
            "unknown."),
    Setting("ordinary_min_zipf", 3.0, "Zipf", _U,
            "A place name less frequent than this is not an ordinary word, whatever the town's "
            "size."),
    Setting("ordinary_margin", 0.5, "Zipf", _U,
            "How far a name's frequency may exceed what a town of its size explains before it "
            "counts as an ordinary word too (\"Lage\", \"Enger\", \"Wenden\", \"Halle\"): such "
            "names need a cue to be a place."),
    Setting("scan_per_probe", 2, "factor", _U,
            "Scoring a word costs about half a probe for a part (slicing, a set, a dict look-up): "
            "typo buckets smaller than this many times the probes of a look-up are scored whole "
            "(measured with `weserbot bench`)."),
    # -- places ---------------------------------------------------------------------------------
    Setting("dominance", 2.0, "factor", _P,
            "A town of the region this many times larger than every other place of its name is "
            "meant by it; the others are offered as alternatives. Below that, the bot asks back."),
    Setting("region_prior", 3.0, "factor", _P,
            "People asking this bot live in the region: a place there counts this many times its "
            "size."),
    Setting("short_name_weight", 0.1, "factor", _P,
            "A short form (\"Halle\" for Halle (Saale)) is weaker evidence of a town than its own "
            "name."),
    Setting("locality_population", 1000, "people", _P,
            "Assumed size of an Ortsteil, whose population the gazetteer does not give."),
    Setting("district_population", 150_000, "people", _P,
            "Assumed size of a district named as a place; a Land outside the region counts ten "
            "times this."),
    Setting("max_distance", 15.0, "km", _P,
            "Farther than this from every town centre, a shared location is treated as outside the "
            "region."),
    Setting("place_certainty_name", 1.0, "certainty 0..1", _P,
            "How sure a place named by its own name is."),
    Setting("place_certainty_alias", 0.97, "certainty 0..1", _P,
            "How sure a place named by an alias is."),
    Setting("place_certainty_postcode", 0.95, "certainty 0..1", _P,
            "How sure a place named by its postcode is."),
    Setting("place_certainty_locality", 0.93, "certainty 0..1", _P,
            "How sure a place named by one of its localities (Ortsteil) is."),
    Setting("place_certainty_district", 0.9, "certainty 0..1", _P,
            "How sure a place named by its district is."),
    Setting("place_certainty_other", 0.9, "certainty 0..1", _P,
            "How sure a place named any other way is (a short form: \"Halle\" for Halle (Saale))."),
    Setting("fuzzy_place_penalty", 0.08, "certainty per edit", _P,
            "Certainty lost per typo in a place name."),
    Setting("implicit_role_penalty", 0.05, "confidence 0..1", _P,
            "Confidence lost when the place's role is implied, not named."),
    Setting("max_choices", 8, "places", _P,
            "Most towns offered to choose from (or named as other places); a name that fits more "
            "is asked about again."),
    # -- answers and the conversation -------------------------------------------------------------
    Setting("confident", 0.7, "confidence 0..1", _A,
            "Below this confidence an answer carries a 'please double-check' line."),
    Setting("keep_answers", 20, "answers", _A,
            "Answers per user whose buttons still work."),
    Setting("topics_per_page", 8, "topics", _A,
            "Topics per page of the topic catalogue (/topics)."),
    Setting("label_chars", 40, "characters", _A,
            "Longest button label; longer ones are shortened at a word boundary."),
    # -- hurdles: questions the bot could not answer ----------------------------------------------
    Setting("grouping_similarity", 80, "score 0..100", _H,
            "Score from which two questions count as the same hurdle. Lower merges more (fewer, "
            "broader hurdles); higher splits rephrasings of one problem into several."),
    Setting("grouping_typo", 85, "score 0..100", _H,
            "rapidfuzz ratio from which two content words are the same word misspelt."),
    Setting("grouping_min_part", 4, "letters", _H,
            "Letters a word needs to count as part of a compound (\"tauben\" in \"taubenplage\")."),
    Setting("grouping_smaller_weight", 0.8, "share 0..1", _H,
            "How much the shorter question's words decide; the rest is the share of the longer "
            "one's, so that an exact rephrasing beats one with an extra word, and both beat the "
            "threshold."),
    Setting("hurdle_max_question", 500, "characters", _H,
            "Characters of a question kept: enough for any real question, bounded for abuse."),
    Setting("hurdle_max_examples", 5, "questions", _H,
            "Example questions kept per hurdle."),
    Setting("hurdle_busy_timeout", 5000, "ms", _H,
            "How long a write to the hurdle log (SQLite) waits for another writer."),
    Setting("hurdle_purge_every", 86_400, "s", _H,
            "A long-running bot purges expired hurdle entries this often, not only when it starts."),
    Setting("hurdle_max_waiting", 10_000, "entries", _H,
            "Entries kept in memory while the store is down; past it the oldest are dropped."),
    Setting("hurdle_max_wait", 0.1, "s", _H,
            "How long a reply waits at most for its hurdle to be committed; then it waits in "
            "memory."),
    Setting("hurdle_retry_every", 30.0, "s", _H,
            "Time between attempts to reach the store while entries wait (or it is not open)."),
    Setting("teach_max_phrases", 10, "phrases", _H,
            "Phrasings taken from one hurdle at most (/teach)."),
    Setting("digest_top", 3, "entries", _H,
            "Causes and cross-border pairs named in the weekly digest."),
    Setting("staff_page_size", 5, "hurdles", _H,
            "Hurdles per page of /hurdles in the staff chat."),
    Setting("staff_title_chars", 200, "characters", _H,
            "Longest hurdle title shown in the staff chat."),
    Setting("report_max_bars", 15, "bars", _H,
            "Bars per chart of the hurdle report; the rest are summed into one 'other' bar so the "
            "page stays readable."),
    # -- Telegram ---------------------------------------------------------------------------------
    Setting("poll_timeout", 30, "s", _T,
            "How long one getUpdates long poll may wait for news."),
    Setting("bootstrap_retries", 0, "rounds", _T,
            "Extra rounds of the start-up calls (getMe, deleteWebhook/setWebhook): none, as every "
            "call is already retried by RetryingRateLimiter; an unreachable API then ends the start "
            "in seconds."),
    Setting("connection_pool", 16, "connections", _T,
            "Bot API connections kept open (aiohttp); the rate limiter never has more calls "
            "under way."),
    Setting("connect_timeout", 10.0, "s", _T,
            "How long connecting to the Bot API may take; a call that times out is retried "
            "(RetryingRateLimiter)."),
    Setting("read_timeout", 15.0, "s", _T,
            "How long reading a Bot API reply may take; getUpdates adds the long-poll time."),
    Setting("write_timeout", 15.0, "s", _T,
            "How long sending a Bot API request may take."),
    Setting("pool_timeout", 10.0, "s", _T,
            "How long a Bot API call may wait for a free connection of the pool."),
    Setting("message_max_chars", 1000, "characters", _T,
            "Characters of a message given to the engine; longer ones are cut (Telegram allows "
            "4096)."),
    Setting("max_concurrent_updates", 256, "updates", _T,
            "Updates handled at once (different users in parallel, one user's in order); a waiting "
            "update holds a slot, hence generous."),
    Setting("network_attempts", 4, "attempts", _T,
            "Tries of a Bot API call that failed with a network error or a 5xx."),
    Setting("retry_base_delay", 0.5, "s", _T,
            "The first wait between those tries; it doubles with each (with jitter)."),
    Setting("max_retries", 3, "retries", _T,
            "How often a Bot API call is retried after Telegram's 429 (retry after N seconds)."),
    # -- storage: the inbox, the conversation state, the database --------------------------------
    Setting("state_busy_timeout", 100, "ms", _D,
            "The longest a reply waits for a conversation state that another process has locked "
            "(SQLite) before answering from memory."),
    Setting("state_keep_done", 172_800, "s", _D,
            "Done updates are remembered this long (only their id): Telegram keeps an unconfirmed "
            "update for 24 hours, so one fetched again after a crash is not answered twice."),
    Setting("state_purge_every", 86_400, "s", _D,
            "A long-running bot deletes expired states and done updates this often, not only when "
            "it starts."),
    Setting("state_recent_users", 1_000, "users", _D,
            "SQLite (one worker): the saved states of this many recently active users are also "
            "kept in memory, exactly as last written, so that their next message is not a read "
            "of the database; 0 turns this off. Never with PostgreSQL (other workers write too)."),
    Setting("refreeze_after", 60.0, "s", _D,
            "After a reload of the knowledge base, the objects alive are exempted from garbage "
            "collection again this much later (bot/heap.py): answers begun with the old engine "
            "are done by then, and the old engine is gone."),
    Setting("owner_locks", 32, "connections", _D,
            "PostgreSQL: connections that hold the lock of a user whose update is being handled "
            "(so that another worker waits for it); more users at the same moment wait for one."),
    Setting("owner_lock_timeout", 30.0, "s", _D,
            "PostgreSQL: the longest an update waits for the same user's update on another worker "
            "(or a free lock connection); then it is answered without the lock."),
    Setting("takeover_after", 10.0, "s", _D,
            "PostgreSQL: an update another worker received this long ago and has not begun to "
            "answer is taken over (that worker may have died); database.takeover_after in the "
            "config overrides it."),
    Setting("migration_wait", 60_000, "ms", _D,
            "How long a starting worker waits for another one that is migrating the same "
            "database."),
    # -- security ---------------------------------------------------------------------------------
    Setting("min_webhook_secret", 32, "characters", _S,
            "Characters a webhook secret token must have at least (Telegram allows 1-256)."),
    Setting("min_redacted", 12, "characters", _S,
            "Secrets shorter than this are not replaced in log lines (see LogHygiene)."),
)
"""Every tunable threshold and limit, grouped by area: the order of the documentation."""

BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Value:
    """The value of the setting `name`; KeyError for a name the table does not have."""
    return BY_NAME[name].default


def markdown() -> str:
    """The table as Markdown, as README.md carries it."""
    rows = ["| Setting | Default | Unit | Area | What it decides |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        # A "|" in help text ("Wohngeld|stelle") would end the cell.
        rows.append(f"| `{s.name}` | {s.default} | {s.unit} | {s.area} | "
                    f"{s.help.replace('|', chr(92) + '|')} |")
    return "\n".join(rows) + "\n"


def plain() -> str:
    """The table as text for a terminal: name, default, unit and area, then the help indented."""
    import textwrap  # only this command needs it, not every module that reads a setting

    width = max(len(s.name) for s in SETTINGS)
    return "\n".join(f"{s.name:<{width}}  {s.default!s:<8} {s.unit:<18} {s.area}\n"
                     + textwrap.fill(s.help, 100, initial_indent="    ", subsequent_indent="    ")
                     for s in SETTINGS) + "\n"


def setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help="print a Markdown table (as in README.md)")


def run(args: argparse.Namespace) -> int:
    print(markdown() if args.markdown else plain(), end="")
    return 0
