"""A warehouse password, in whatever form the URL or connection string holds
it, is never printed: not in the startup lines, not in a message, not in a
traceback (--debug), not in the manifest."""

from __future__ import annotations

import json
import os
import socket
from urllib.parse import unquote, urlsplit

import pytest

from vga.config import load_config, redacted
from vga.credentials import connectable, parse_url, redact, secrets_in

from .common import data_folder, vga

PASSWORD = "pa/ss#wo?rd@x"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


#: (how the warehouse is named, the secret in it)
FORMS = {
    "a password with / # ? @": ("postgresql://vga:" + PASSWORD + "@127.0.0.1:{port}/db", PASSWORD),
    "percent-encoded": ("postgresql://vga:p%40ss%2Fw%23rd@127.0.0.1:{port}/db", "p%40ss%2Fw%23rd"),
    "?pw=": ("postgresql://vga@127.0.0.1:{port}/db?pw=hunter2secret&sslmode=disable", "hunter2secret"),
    "?password=": ("postgresql://vga@127.0.0.1:{port}/db?sslmode=disable&password=hunter2secret", "hunter2secret"),
    "a libpq string": ("host=127.0.0.1 port={port} user=vga password='hunter 2 secret' dbname=db", "hunter 2 secret"),
    "a plus in the password": ("postgresql://vga:hun+ter2@127.0.0.1:{port}/db", "hun+ter2"),
}


def _pieces(secret: str) -> list[str]:
    """The secret and its parts a split at / # ? @ would show, as written and decoded."""
    import re

    parts = {secret, unquote(secret)} | set(re.split(r"[/#?@ ]", secret)) | set(re.split(r"[/#?@ ]", unquote(secret)))
    return [p for p in parts if len(p) >= 4]


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("how", ["url", "url_env"])
def test_a_password_in_any_form_is_never_printed(tmp_path, form, how):
    """The attack: a password with / # ? made the startup line print the
    whole URL and a ValueError traceback end with the password; a libpq
    string was printed as it was; ?pw= was not redacted."""
    port = _closed_port()
    url, secret = FORMS[form]
    url = url.format(port=port)
    folder = data_folder(tmp_path)
    own = tmp_path / "mine.toml"
    own.write_text(f"[warehouse]\nurl = {json.dumps(url)}\n" if how == "url" else '[warehouse]\nurl_env = "MY_URL"\n')
    for debug in ([], ["--debug"]):
        done = vga(*debug, "validate", "--data", folder, "--config", own, env={"MY_URL": url})
        shown = done.stdout + done.stderr
        assert done.returncode in (1, 2), shown
        assert not [p for p in _pieces(secret) if p in shown], shown
        if not debug:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    config = load_config(own)
    assert not [p for p in _pieces(secret) if p in json.dumps(redacted(config))]


@pytest.mark.parametrize("form", list(FORMS))
def test_secrets_are_found_in_every_form(form):
    url, secret = FORMS[form]
    url = url.format(port=5432)
    assert secret in secrets_in(url) or secret.strip("'") in secrets_in(url)
    assert not [p for p in _pieces(secret) if p in redact(url)], redact(url)


def test_a_password_with_any_character_reaches_the_driver_as_it_is():
    """A strict parser misreads such a URL (it took 'pa' for a port); the URL
    handed to the driver has the user and password percent-encoded, and
    decodes to exactly what was written."""
    url = f"postgresql://vga:{PASSWORD}@db.example:5433/vga?sslmode=require"
    with pytest.raises(ValueError):
        urlsplit(url).port
    parsed = parse_url(url)
    assert (parsed.user, parsed.password, parsed.hostname, parsed.port) == ("vga", PASSWORD, "db.example", 5433)
    strict = urlsplit(connectable(url))
    assert unquote(strict.password) == PASSWORD and strict.hostname == "db.example" and strict.port == 5433
    assert strict.path == "/vga" and strict.query == "sslmode=require"
    # An '@' in the query is not a user's: such URLs are handed on unchanged.
    plain = "postgresql://db.example/vga?application_name=a@b"
    assert connectable(plain) == plain and parse_url(plain).user is None
    assert connectable("postgresql://me:s3cret@db/vga") == "postgresql://me:s3cret@db/vga"


@pytest.mark.postgres
def test_a_password_with_any_character_connects(postgres_url):
    """On the real server: a role whose password holds / # ? @ and a space
    connects with the URL written as people write it, not encoded."""
    import psycopg

    from vga.engine import open_warehouse

    role, password = "vga_odd_password", "pa/ss#wo?rd@x y"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        base = urlsplit(postgres_url)
        con = open_warehouse(f"postgresql://{role}:{password}@{base.hostname}:{base.port}{base.path}")
        assert con.raw_sql("SELECT current_user").fetchone()[0] == role
        con.disconnect()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_an_unreadable_connection_string_is_one_line_without_its_value(tmp_path):
    folder = data_folder(tmp_path)
    own = tmp_path / "mine.toml"
    own.write_text('[warehouse]\nurl = "not a url at all with hunter2secret"\n')
    done = vga("validate", "--data", folder, "--config", own, env={k: v for k, v in os.environ.items()})
    assert done.returncode in (1, 2) and "hunter2secret" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
