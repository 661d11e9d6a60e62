"""Connection strings and the secrets in them: found in any form, never shown.

A warehouse is named by a URL (``postgresql://user:password@host:5432/db``)
or, by people used to libpq, a connection string (``host=db user=me
password=...``). Passwords hold any character: a ``/``, ``#``, ``?`` or
``@`` breaks a strict URL parser, which then fails with a message (or a
traceback) quoting part of the password. Here:

- :func:`parse_url` reads a URL tolerantly: the user information ends at
  the first ``@`` that a host follows, whatever the password holds, and is
  taken apart whether or not it is percent-encoded;
- :func:`secrets_in` lists every secret of a URL or a connection string:
  the password (as written and decoded) and every parameter whose name says
  it is one (``password``, ``pw``, ``pwd``, ``sslpassword``, ``token``,
  ``private_key_passphrase``, ``;token=`` of Spark Connect...);
- :func:`redact` writes a URL or connection string with each secret as
  ``***``, and :func:`scrub` takes them out of any text (a message, a
  traceback);
- :func:`connectable` gives the URL a driver can parse: user and password
  percent-encoded where a strict parser would misread them.

Nothing here raises with a value in its message: a connection string that
cannot be read is said to be unreadable, and that is all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

#: Names of parameters that carry a secret, matched without case anywhere in the name.
SECRET_NAME = re.compile(r"(pass(word|wd|phrase)?|pwd|pw|secret|token|key|credential|auth|signature|sig|sas|session)",
                         re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)://(.*)$", re.S)
#: A host (or libpq's host list) with its port: no '@', up to the path, query, parameters or the end.
_HOST = re.compile(r"^[^@/?#;\s]*(?=[/?#;\s]|$)")
#: key = value pairs of a libpq connection string; a value may be quoted, with backslash escapes.
_DSN_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")


@dataclass(frozen=True)
class Url:
    """A URL taken apart as written: ``scheme://user:password@host/rest``."""

    scheme: str
    user: str | None
    password: str | None
    host: str  # host[:port], or libpq's host list, as written
    rest: str  # path, query and fragment, as written

    @property
    def hostname(self) -> str | None:
        host = self.host.split(",")[0]
        if host.startswith("["):
            return host[1:host.find("]")] or None if "]" in host else None
        return host.rsplit(":", 1)[0] or None if ":" in host else host or None

    @property
    def port(self) -> int | None:
        host = self.host.split(",")[0]
        tail = host[host.find("]") + 1:] if host.startswith("[") else host
        if ":" in tail:
            digits = tail.rsplit(":", 1)[1]
            return int(digits) if digits.isdigit() and len(digits) <= 5 else None
        return None


def parse_url(text: str) -> Url | None:
    """``text`` as a :class:`Url`, read tolerantly (see the module
    docstring); None when it is not a URL (``scheme://...``)."""
    match = _SCHEME.match(text or "")
    if not match:
        return None
    scheme, after = match.groups()
    userinfo = None
    for at in (i for i, c in enumerate(after) if c == "@"):
        candidate = after[:at]
        # A user name alone holds no '/', '?' or '#': such an '@' lies in the path or the query.
        if _HOST.match(after[at + 1:]) and (":" in candidate or not re.search(r"[/?#]", candidate)):
            userinfo, after = candidate, after[at + 1:]
            break
    host = _HOST.match(after).group(0)
    user, password = None, None
    if userinfo is not None:
        user, colon, given = userinfo.partition(":")
        password = given if colon else None
    return Url(scheme, user, password, host, after[len(host):])


def is_connection_string(text: str) -> bool:
    """Whether ``text`` is a libpq connection string (``host=... dbname=...``)."""
    return bool(text) and "://" not in text and bool(re.match(r"^\s*[A-Za-z_]\w*\s*=", text))


def _parameters(text: str) -> list[tuple[str, str]]:
    """(name, value as written) of every ``name=value`` after ``?``, ``&`` or ``;``."""
    out = []
    for chunk in re.split(r"[?&;]", text)[1:]:
        name, sep, value = chunk.partition("=")
        if sep:
            out.append((name, value))
    return out


def secrets_in(text: str) -> list[str]:
    """Every secret value in a URL or connection string, as written and
    percent-decoded, longest first (so that replacing them in order leaves
    no part of one)."""
    if not text:
        return []
    found: list[str] = []
    if is_connection_string(text):
        for name, value in _DSN_PAIR.findall(text):
            if SECRET_NAME.search(name) and value:
                found.append(value)
                if value.startswith("'"):
                    found.append(re.sub(r"\\(.)", r"\1", value[1:-1]))
    url = parse_url(text)
    if url is not None:
        if url.password:
            found.append(url.password)
        found += [value for name, value in _parameters(url.rest) if value and SECRET_NAME.search(unquote(name))]
        try:  # what a strict parser would take for the password (a different split): a secret too
            strict = urlsplit(text.strip()).password
        except ValueError:
            strict = None
        if strict:
            found.append(strict)
    found += [unquote(v) for v in found if unquote(v) != v]
    found += [unquote(v.replace("+", " ")) for v in found if "+" in v]
    return sorted({v for v in found if v}, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` (a URL or connection string) with every secret as ``***``."""
    if not text:
        return text
    if is_connection_string(text):
        return _DSN_PAIR.sub(lambda m: f"{m.group(1)}=***" if SECRET_NAME.search(m.group(1)) and m.group(2)
                             else m.group(0), text)
    url = parse_url(text)
    if url is None:
        return scrub(text, secrets_in(text))
    user = "" if url.user is None else url.user + (":***" if url.password is not None else "") + "@"

    def hide(match):
        return f"{match.group(1)}{match.group(2)}=***" if SECRET_NAME.search(unquote(match.group(2))) else match.group(0)

    rest = re.sub(r"([?&;])([^=&;#]+)=([^&;]*)", hide, url.rest)
    return f"{url.scheme}://{user}{url.host}{rest}"


#: Secrets written in text as name=value (a connection string quoted in a driver's message).
_NAMED_SECRET = re.compile(r"\b([\w.]*(?:password|passwd|pwd|pw|secret|token|passphrase)[\w.]*)(\s*[=:]\s*)"
                           r"('(?:[^'\\]|\\.)*'|\"[^\"]*\"|[^\s&;,'\"]+)", re.IGNORECASE)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``***`` wherever it
    stands, and then any URL password and ``password=...`` left (a secret
    of three characters or more: a shorter one would blank ordinary words)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    text = re.sub(r"(://[^:/@\s]+:)\S*@", r"\1***@", text)
    return _NAMED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def connectable(url: str) -> str:
    """``url`` as a driver's strict parser reads it right: unchanged when it
    does, else with user and password percent-encoded (a password holding
    ``/``, ``#``, ``?`` or ``@``)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a port that is not a number: a password read as a port)
        if "@" not in text or "@" in parts.netloc and "@" not in text.split(parts.netloc, 1)[1]:
            return text
    except ValueError:
        pass
    parsed = parse_url(text)
    if parsed is None or parsed.user is None:
        return text
    userinfo = quote(unquote(parsed.user), safe="")
    if parsed.password is not None:
        userinfo += ":" + quote(unquote(parsed.password), safe="")
    return f"{parsed.scheme}://{userinfo}@{parsed.host}{parsed.rest}"
