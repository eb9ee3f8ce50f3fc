"""Reading settings from the environment.

Every setting goes through one of these helpers, so a malformed value stops start-up
with ImproperlyConfigured naming the variable, instead of surfacing later as a 500.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name)
    # An empty value counts as missing: `SECRET_KEY=` in a deploy's env file is a mistake,
    # not a request for the development fallback.
    if required and not (value or "").strip():
        raise ImproperlyConfigured(f"The {name} environment variable is required.")
    if value is None:
        return default if default is not None else ""
    return value


def envbool(name: str, default: str) -> bool:
    value = env(name, default).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}."
    )


def envint(name: str, default: str, *, minimum: int | None = None) -> int:
    value = env(name, default).strip()
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def envlist(name: str, default: str, *, required: bool = False) -> list[str]:
    items = [
        item.strip() for item in env(name, default, required=required).split(",") if item.strip()
    ]
    if required and not items:
        raise ImproperlyConfigured(
            f"The {name} environment variable is required (a comma-separated list)."
        )
    return items


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def folder_ready(name: str, path: str | os.PathLike) -> Path:
    """The folder the setting `name` names, created (with its parents) if it is missing.

    For the paths a process writes (the filesystem broker's messages, the file mail backend's
    messages, an SQLite file, beat's schedule): made when the process starts, so a fresh clone
    or a new volume works, and a path that cannot be made stops start-up naming the setting,
    not the first task that writes there.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"{name} names {str(folder)!r}, which cannot be created: {error.strerror or error}."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(f"{name} names {str(folder)!r}, which is not writable.")
    return folder
