"""Secrets the bot makes itself when the operator gives none: created once, kept in a file that
only the bot's user can read (0600), and read again at every start."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from bot.config import MIN_WEBHOOK_SECRET, WEBHOOK_SECRET_CHARS, ConfigError, Mode

log = logging.getLogger(__name__)

HURDLE_KEY_FILE = "weserbot-hurdles.key"
"""Next to the hurdle log: the key of the askers' pseudonyms when hurdles.secret is not set."""
WEBHOOK_SECRET_FILE = "weserbot-webhook.secret"
"""Next to the hurdle log: the webhook's secret token when telegram.webhook.secret_token is not set."""


def kept_secret(path: Path) -> tuple[str, bool]:
    """The secret in `path`, or a new random one written there (0600). Returns it and whether it
    was created now. Raises OSError when the file can be neither read nor created."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    if WEBHOOK_SECRET_CHARS.fullmatch(text) and len(text) >= MIN_WEBHOOK_SECRET:
        return text, False
    if text:
        raise OSError(f"{path}: not a key WeserBot wrote; delete it to have a new one made")
    value = secrets.token_urlsafe(48)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (value + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)  # never half a key in the file
    return value, True


def fill_in(config) -> None:
    """Give `config` (bot.config.Config) the secrets the operator left out, from their files next
    to the hurdle log (made there once): the hurdle key and, in webhook mode, the webhook secret.
    Says so once per start. A folder that cannot take the file leaves the hurdle key empty (a
    random one per start, as before) and ends a webhook start with ConfigError."""
    if config.hurdles_db.path is None:  # PostgreSQL: workers on other machines share the data
        missing = [name for name, value in (
            ("hurdles.secret (or WESERBOT_HURDLE_SECRET)", config.hurdles.secret),
            ("telegram.webhook.secret_token (or WESERBOT_WEBHOOK_SECRET)",
             config.telegram.webhook_secret or config.telegram.mode != Mode.WEBHOOK)) if not value]
        if missing:
            raise ConfigError(f"{' and '.join(missing)}: needed with a PostgreSQL database, the "
                              "same for every worker (a key made by one worker would not be "
                              "known to the others)")
    folder = config.hurdles.path.parent
    if not config.hurdles.secret:
        path = folder / HURDLE_KEY_FILE
        try:
            config.hurdles.secret, created = kept_secret(path)
        except OSError as exc:
            log.warning("hurdles.secret is not set and no key can be kept in %s (%s): pseudonyms "
                        "and /forget only work until the next start", folder, exc)
        else:
            log.warning("hurdles.secret is not set: using the key %s %s (keep it with the "
                        "backups of the hurdle log)", "made now in" if created else "kept in",
                        path)
    tg = config.telegram
    if tg.mode == Mode.WEBHOOK and not tg.webhook_secret:
        path = folder / WEBHOOK_SECRET_FILE
        try:
            tg.webhook_secret, created = kept_secret(path)
        except OSError as exc:
            raise ConfigError(f"telegram.webhook.secret_token: not set, and none can be kept in "
                              f"{path} ({exc}); set one of at least {MIN_WEBHOOK_SECRET} "
                              "characters") from exc
        log.warning("telegram.webhook.secret_token is not set: using the secret %s %s",
                    "made now in" if created else "kept in", path)
