"""What the bot itself says, in German and English. Answers to questions come from the engine.

Texts with markup are HTML for Telegram; placeholders are filled with escaped values only.
"""

from __future__ import annotations

from typing import Any

LANGS = ("de", "en")
DEFAULT_LANG = "de"
"""For users whose Telegram app does not tell their language."""

TEXT: dict[str, dict[str, str]] = {
    "de": {
        "start": (
            "Hallo {name}! Ich bin <b>WeserBot</b>. Ich sage Ihnen, welches Amt für Sie "
            "zuständig ist – in den Kreisen Hameln-Pyrmont, Holzminden, Schaumburg, Hildesheim, "
            "Nienburg, der Region Hannover, Lippe, Minden-Lübbecke, Höxter und Herford.\n\n"
            "Fragen Sie einfach in eigenen Worten, zum Beispiel:\n"
            "<i>Ich wohne in Lügde – wo verlängere ich meine Aufenthaltserlaubnis?</i>\n\n"
            "Mit /topics stöbern Sie in den Themen, /help zeigt alle Befehle."),
        "help": (
            "<b>So frage ich:</b> Schreiben Sie, was Sie erledigen möchten und wo Sie wohnen "
            "(Ort, Ortsteil oder Postleitzahl), z. B. <i>Kita-Platz in Rinteln</i>. Fehlt der "
            "Ort, frage ich nach. Einen Standort können Sie auch teilen.\n\n"
            "/topics – Themen durchsuchen\n"
            "/language – Sprache wählen (Deutsch/English)\n"
            "/privacy – was ich speichere\n"
            "/forget – alles löschen, was über Sie gespeichert ist\n\n"
            "In Gruppen antworte ich nur, wenn Sie mich mit @{bot} erwähnen oder auf meine "
            "Nachricht antworten."),
        "privacy": (
            "<b>Was ich speichere und warum</b>\n\n"
            "• <b>Für das Gespräch:</b> Ihre Spracheinstellung, eine offene Rückfrage (etwa "
            "„Wo wohnen Sie?“) und Ihre letzten Fragen, damit 👍/👎 und die Knöpfe "
            "funktionieren – unter Ihrer Telegram-Nutzer-ID, bis Sie /forget senden.\n"
            "• <b>Für das Team:</b> Fragen, die ich nicht beantworten konnte, und Antworten, die "
            "Sie mit 👎 bewertet haben – Fragetext, erkanntes Thema und Orte, ohne Namen oder "
            "Telegram-ID, nur mit einem Pseudonym, damit Wiederholungen gezählt werden können. "
            "Das Team der Region nutzt sie, um Lücken in der Auskunft zu schließen. Sie werden "
            "nach {days} Tagen gelöscht.\n"
            "• <b>Nicht gespeichert:</b> Fotos, Sprachnachrichten, Dateien; ein geteilter "
            "Standort wird nur in einen Ortsnamen umgerechnet.\n\n"
            "/forget löscht alles, was über Sie gespeichert ist."),
        "forget_done": ("Erledigt: Ihre Einstellungen und offenen Fragen sind gelöscht, dazu "
                        "{count} Eintrag/Einträge im Protokoll für das Team."),
        "forget_partly": ("Ihre Einstellungen und offenen Fragen sind gelöscht. Das Protokoll für "
                          "das Team ist gerade nicht erreichbar – bitte senden Sie /forget später "
                          "noch einmal."),
        "unknown_command": "Diesen Befehl kenne ich nicht. /help zeigt, was ich kann.",
        "language_pick": "Welche Sprache möchten Sie? / Which language do you prefer?",
        "language_set": "Alles klar, ich schreibe Ihnen auf Deutsch.",
        "topics": "<b>Themen</b> – wählen Sie eines aus (Seite {page}/{pages}):",
        "previous": "◀ Zurück",
        "next": "Weiter ▶",
        "helpful": "Hilfreich?",
        "website": "🌐 Website der Behörde",
        "alternatives": "Oder meinten Sie:",
        "thanks_up": "Danke für Ihre Rückmeldung!",
        "thanks_down": ("Danke! Ich habe die Frage für das Team notiert, damit die Auskunft besser "
                        "wird."),
        "rated_already": "Diese Antwort haben Sie schon bewertet.",
        "gone": "Diese Schaltfläche ist nicht mehr gültig – bitte stellen Sie Ihre Frage neu.",
        "not_yours": "Diese Schaltfläche gehört zur Frage einer anderen Person.",
        "media": ("Bilder, Sticker, Sprachnachrichten und Dateien kann ich leider nicht lesen. "
                  "Schreiben Sie mir Ihre Frage als Text, z. B. <i>Wo melde ich mein Auto an? Ich "
                  "wohne in Rinteln.</i> Wenn ich nach Ihrem Ort frage, können Sie auch Ihren "
                  "Standort teilen."),
        "location_noted": ("📍 Ihr Standort liegt in <b>{place}</b>. Was möchten Sie wissen? "
                           "Ich beziehe die nächste Frage auf diesen Ort."),
        "location_unknown": ("Diesen Standort kann ich keinem Ort in meinem Gebiet zuordnen. "
                             "Schreiben Sie mir bitte den Ort oder die Postleitzahl."),
        "location_off": ("Standorte kann ich noch nicht auswerten. Schreiben Sie mir bitte den "
                         "Ort oder die Postleitzahl."),
        "flood": ("Bitte etwas langsamer – ich beantworte höchstens {limit} Nachrichten pro "
                  "Minute. Ihre nächste Nachricht beantworte ich gern wieder."),
        "error": "Entschuldigung, da ist etwas schiefgegangen. Bitte versuchen Sie es noch einmal.",
        "staff_only": "Dieser Befehl ist dem WeserBot-Team vorbehalten.",
        "store_down": "Das Hürden-Protokoll ist gerade nicht erreichbar.",
        "hurdles_title": "<b>Offene Hürden</b> (Seite {page})",
        "hurdles_none": "Keine offenen Hürden. 🎉",
        "hurdle_usage": "Bitte so: /hurdle 12",
        "hurdle_missing": "Hürde #{id} gibt es nicht.",
        "status_set": "Status von #{id}: {status}",
        "back": "◀ Liste",
        "stats_title": "<b>Hürden-Protokoll</b>",
        "new_hurdle": "🆕 Neue Hürde #{id} ({reason}, Thema: {topic}): {title}\n/hurdle {id}",
        "reload_done": ("✅ Wissensbasis neu geladen: {topics} Themen, {places} Gemeinden "
                        "({seconds} s). Neue Fragen werden damit beantwortet."),
        "reload_failed": ("⚠️ Wissensbasis nicht neu geladen – die bisherige bleibt in Betrieb. "
                          "{count} Problem(e):"),
    },
    "en": {
        "start": (
            "Hello {name}! I am <b>WeserBot</b>. I tell you which office is responsible for you "
            "in the districts of Hameln-Pyrmont, Holzminden, Schaumburg, Hildesheim, Nienburg, "
            "Region Hannover, Lippe, Minden-Lübbecke, Höxter and Herford.\n\n"
            "Just ask in your own words, for example:\n"
            "<i>I live in Lügde – where do I extend my residence permit?</i>\n\n"
            "Browse the topics with /topics; /help lists all commands."),
        "help": (
            "<b>How to ask:</b> tell me what you need to do and where you live (town, village "
            "or postcode), e.g. <i>daycare place in Rinteln</i>. If the place is missing, I ask "
            "for it. You can also share a location.\n\n"
            "/topics – browse the topics\n"
            "/language – choose the language (Deutsch/English)\n"
            "/privacy – what I store\n"
            "/forget – delete everything stored about you\n\n"
            "In groups I only answer when you mention me (@{bot}) or reply to my message."),
        "privacy": (
            "<b>What I store and why</b>\n\n"
            "• <b>For the conversation:</b> your language setting, an open follow-up question "
            "(like “Where do you live?”) and your recent questions, so that 👍/👎 and the buttons "
            "work – under your Telegram user id, until you send /forget.\n"
            "• <b>For the team:</b> questions I could not answer and answers you rated 👎 – the "
            "question, the topic and the places, without name or Telegram id, only with a "
            "pseudonym so that repeats can be counted. The region's team uses them to fill gaps "
            "in the information. They are deleted after {days} days.\n"
            "• <b>Not stored:</b> photos, voice messages, files; a shared location is only turned "
            "into a place name.\n\n"
            "/forget deletes everything stored about you."),
        "forget_done": ("Done: your settings and open questions are deleted, and {count} "
                        "entry/entries in the team's log."),
        "forget_partly": ("Your settings and open questions are deleted. The team's log cannot be "
                          "reached right now – please send /forget again later."),
        "unknown_command": "I don't know that command. /help shows what I can do.",
        "language_pick": "Welche Sprache möchten Sie? / Which language do you prefer?",
        "language_set": "Fine, I'll write to you in English.",
        "topics": "<b>Topics</b> – pick one (page {page}/{pages}):",
        "previous": "◀ Back",
        "next": "Next ▶",
        "helpful": "Helpful?",
        "website": "🌐 Office website",
        "alternatives": "Or did you mean:",
        "thanks_up": "Thanks for your feedback!",
        "thanks_down": "Thank you! I noted the question for the team so the answer gets better.",
        "rated_already": "You have already rated this answer.",
        "gone": "This button is no longer valid – please ask your question again.",
        "not_yours": "This button belongs to someone else's question.",
        "media": ("Sorry, I can't read pictures, stickers, voice messages or files. Write your "
                  "question as text, e.g. <i>Where do I register my car? I live in Rinteln.</i> "
                  "When I ask where you live, you can also share your location."),
        "location_noted": ("📍 Your location is in <b>{place}</b>. What would you like to know? "
                           "I'll use this place for your next question."),
        "location_unknown": ("I can't match this location to a place in my area. Please write "
                             "the town or postcode."),
        "location_off": ("I can't use locations yet. Please write the town or postcode."),
        "flood": ("Please slow down a little – I answer at most {limit} messages per minute. I'll "
                  "gladly answer your next message."),
        "error": "Sorry, something went wrong. Please try again.",
        "staff_only": "This command is reserved for the WeserBot team.",
        "store_down": "The hurdle log cannot be reached right now.",
        "hurdles_title": "<b>Open hurdles</b> (page {page})",
        "hurdles_none": "No open hurdles. 🎉",
        "hurdle_usage": "Usage: /hurdle 12",
        "hurdle_missing": "There is no hurdle #{id}.",
        "status_set": "Status of #{id}: {status}",
        "back": "◀ List",
        "stats_title": "<b>Hurdle log</b>",
        "new_hurdle": "🆕 New hurdle #{id} ({reason}, topic: {topic}): {title}\n/hurdle {id}",
        "reload_done": ("✅ Knowledge base reloaded: {topics} topics, {places} municipalities "
                        "({seconds} s). New questions are answered with it."),
        "reload_failed": ("⚠️ Knowledge base not reloaded – the previous one stays in use. "
                          "{count} problem(s):"),
    },
}

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "de": [("start", "Begrüßung und Beispiel"), ("help", "So stellen Sie Fragen"),
           ("topics", "Themen durchsuchen"), ("language", "Sprache wählen"),
           ("privacy", "Was gespeichert wird"), ("forget", "Meine Daten löschen")],
    "en": [("start", "Welcome and an example"), ("help", "How to ask"),
           ("topics", "Browse the topics"), ("language", "Choose the language"),
           ("privacy", "What is stored"), ("forget", "Delete my data")],
}
STAFF_COMMANDS: dict[str, list[tuple[str, str]]] = {
    "de": [("reload", "Team: Wissensbasis neu laden"), ("hurdles", "Team: offene Hürden"),
           ("hurdle", "Team: eine Hürde, z. B. /hurdle 3"), ("stats", "Team: Zahlen zum Protokoll")],
    "en": [("reload", "Team: reload the knowledge base"), ("hurdles", "Team: open hurdles"),
           ("hurdle", "Team: one hurdle, e.g. /hurdle 3"), ("stats", "Team: numbers of the log")],
}
STATUS_NAMES = {
    "de": {"new": "neu", "in_review": "in Prüfung", "answered_by_update": "durch Update gelöst",
           "forwarded": "weitergeleitet", "not_a_hurdle": "keine Hürde"},
    "en": {"new": "new", "in_review": "in review", "answered_by_update": "answered by update",
           "forwarded": "forwarded", "not_a_hurdle": "not a hurdle"},
}


def lang_of(language_code: str | None) -> str:
    """Telegram's language code → de or en (German speakers get German, everyone else English)."""
    if not language_code:
        return DEFAULT_LANG
    return "de" if language_code.lower().startswith("de") else "en"


def ui_lang(user_data: dict[str, Any] | None, language_code: str | None) -> str:
    """The language of the bot's own texts: the one chosen with /language, else Telegram's."""
    chosen = (user_data or {}).get("lang")
    return chosen if chosen in LANGS else lang_of(language_code)


def t(lang: str, key: str, **values: Any) -> str:
    text = TEXT.get(lang, TEXT[DEFAULT_LANG])[key]
    return text.format(**values) if values else text
