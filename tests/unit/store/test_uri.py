"""Store URI redaction: read the URI the way SQLAlchemy reads it, hide every secret, change nothing else.

Every password here carries the markers ``Zq7`` and ``K9w`` (which appear nowhere else in the URIs),
so "the password was printed" is checked as "a marker appears", whatever encoding the output used.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from airflow_provider_scheduler.store.uri import redact_text, redact_uri, uri_secrets

MARKERS = ("Zq7", "K9w")

#: Passwords SQLAlchemy accepts raw in ``user:PASSWORD@host`` (everything up to the first "@").
RAW_PASSWORDS = [
    "Zq7#K9w",
    "Zq7/d?K9w",
    "Zq7p#w/d?K9w",
    "Zq7?x=1&y=2K9w",
    "Zq7:co:lonK9w",
    "Zq7%41%2FK9w",  # percent-escapes: SQLAlchemy decodes them
    "Zq7 sp ace K9w",
    "Zq7'q\"K9w",
    "Zq7\\back\\K9w",
    "Zq7+plus+K9w",
    "Zq7;semi;K9w",
    "Zq7#/?:%K9w",
    "Zq7ünïcødéK9w",
    "Zq7//K9w",
    "Zq7?K9w#",
    "Zq7password=K9w",
]
#: Passwords that must be percent-encoded in a URI ("@" ends SQLAlchemy's password).
ENCODED_PASSWORDS = [*RAW_PASSWORDS, "Zq7@K9w", "Zq7@@/#?K9w", "Zq7%K9w"]

URI_SHAPES = [
    "postgresql://app:{pw}@db.example:5432/specs",
    "postgresql+psycopg://app:{pw}@db.example/specs?sslmode=require",
    "postgresql+psycopg2://app:{pw}@[::1]:5432/specs",
    "postgres://:{pw}@db.example/specs",
    "postgresql://app:{pw}@/specs?host=/var/run/postgresql",
]


def leaked(text: str) -> bool:
    return any(marker in text for marker in MARKERS)


class TestRedactUri:
    @pytest.mark.parametrize("shape", URI_SHAPES)
    @pytest.mark.parametrize("password", RAW_PASSWORDS)
    def test_raw_password_sqlalchemy_accepts_is_hidden(self, shape: str, password: str) -> None:
        uri = shape.format(pw=password)
        parsed = make_url(uri)
        assert parsed.password is not None
        assert leaked(parsed.password), "SQLAlchemy reads it as the password"
        redacted = redact_uri(uri)
        assert not leaked(redacted), redacted
        assert "***" in redacted
        # everything but the password is kept as written
        assert redacted == uri.replace(password, "***", 1)

    @pytest.mark.parametrize("shape", URI_SHAPES)
    @pytest.mark.parametrize("password", ENCODED_PASSWORDS)
    def test_percent_encoded_password_is_hidden(self, shape: str, password: str) -> None:
        uri = shape.format(pw=quote(password, safe=""))
        assert make_url(uri).password == password
        redacted = redact_uri(uri)
        assert not leaked(redacted), redacted
        assert redacted == shape.format(pw="***")

    @pytest.mark.parametrize("password", ENCODED_PASSWORDS)
    @pytest.mark.parametrize("key", ["password", "PASSWORD", "sslpassword", "pass%77ord", "api_token"])
    def test_secret_query_parameter_is_hidden(self, password: str, key: str) -> None:
        uri = f"postgresql://app@db.example/specs?sslmode=require&{key}={quote_plus(password)}&x=1"
        redacted = redact_uri(uri)
        assert not leaked(redacted), redacted
        assert redacted == f"postgresql://app@db.example/specs?sslmode=require&{key}=***&x=1"

    def test_query_password_and_userinfo_password_together(self) -> None:
        uri = "postgresql://app:Zq7/a?K9w@h/d?password=Zq7b&sslpassword=K9wc"
        assert redact_uri(uri) == "postgresql://app:***@h/d?password=***&sslpassword=***"

    @pytest.mark.parametrize(
        ("uri", "redacted"),
        [
            # a raw "@" in the password: SQLAlchemy reads the tail as the host; hide it all
            ("postgresql://app:Zq7@K9w@db.example/specs", "postgresql://app:***@db.example/specs"),
            ("postgresql://app@Zq7K9w@db.example/specs", "postgresql://***@db.example/specs"),
            # SQLAlchemy cannot read it (a bad port): everything up to the last "@" but the user name
            ("postgresql://app:Zq7/K9w@db.example:80a/specs", "postgresql://app:***@db.example:80a/specs"),
            ("postgresql://a/pp:Zq7K9w@db.example:80a/specs", "postgresql://***@db.example:80a/specs"),
            ("my-db://app:Zq7#K9w@db.example/specs", "my-db://app:***@db.example/specs"),
            # "x/y:secret@" that SQLAlchemy reads as a database name: hidden all the same
            ("postgresql://a/pp:Zq7K9w@db.example/specs", "postgresql://***@db.example/specs"),
            # not a URI at all
            ("app:Zq7K9w@db.example/specs", "***@db.example/specs"),
            # an empty password is hidden too (whether there is one is nobody's business)
            ("postgresql://app:@db.example/specs", "postgresql://app:***@db.example/specs"),
        ],
    )
    def test_conservative_when_the_uri_is_odd(self, uri: str, redacted: str) -> None:
        assert redact_uri(uri) == redacted

    @pytest.mark.parametrize(
        "uri",
        [
            "sqlite:////srv/airflow/specs.db",
            "sqlite:////srv/a@b/specs.db",
            "sqlite://",
            "file:///srv/specs?mode=ro",
            "file:///srv/spe%20cs#x",
            "postgresql://app@db.example:5432/specs?sslmode=require",
            "postgresql://db.example/specs",
            "not a uri",
        ],
    )
    def test_uri_without_secret_is_unchanged(self, uri: str) -> None:
        assert redact_uri(uri) == uri
        assert uri_secrets(uri) == ()

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        middle=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
        encode=st.booleans(),
        shape=st.sampled_from(URI_SHAPES),
    )
    def test_any_password_is_hidden(self, middle: str, encode: bool, shape: str) -> None:
        password = f"Zq7{middle}K9w"
        if not encode and "@" in password:
            encode = True  # a raw "@" ends the password; covered by test_conservative_when_the_uri_is_odd
        uri = shape.format(pw=quote(password, safe="") if encode else password)
        try:
            parsed = make_url(uri)
        except Exception:
            parsed = None
        if parsed is not None and parsed.password is not None:
            assert leaked(parsed.password)
        assert not leaked(redact_uri(uri)), redact_uri(uri)


class TestRedactText:
    """What a driver or SQLAlchemy prints about a connection never carries the password."""

    @pytest.mark.parametrize("password", ENCODED_PASSWORDS)
    def test_every_spelling_of_the_password_is_scrubbed(self, password: str) -> None:
        uri = f"postgresql://app:{quote(password, safe='')}@db.example/specs"
        parsed = make_url(uri)
        libpq = password.replace("\\", "\\\\").replace("'", "\\'")
        messages = [
            f"invalid dsn: password={password} host=db.example",
            f"connection failed for dsn \"host=db.example password='{libpq}'\"",
            f"could not connect: {parsed.render_as_string(hide_password=False)}",
            f"Invalid URL: {uri} (quoted {quote(password, safe='')}, plus {quote_plus(password)})",
            f"the password is {password}.",
        ]
        for message in messages:
            scrubbed = redact_text(message, uri_secrets(uri))
            assert not leaked(scrubbed), (message, scrubbed)

    def test_sqlalchemy_1_4_spelling_is_scrubbed(self) -> None:
        # SQLAlchemy 1.4 renders a password with only ":", "@" and "/" escaped
        password = "Zq7#w/d?@K9w"
        uri = f"postgresql://app:{quote(password, safe='')}@db.example/specs"
        rendered = re.sub(r"[:@/]", lambda m: f"%{ord(m.group(0)):X}", password)
        assert not leaked(redact_text(f"Invalid URL: postgresql://app:{rendered}@h/d", uri_secrets(uri)))

    def test_uri_and_conninfo_in_text_are_redacted_without_knowing_the_secret(self) -> None:
        text = "tried postgresql://app:Zq7/x@h/d then host=h password='K9w x' port=5 and password=Zq7"
        assert (
            redact_text(text)
            == "tried postgresql://app:***@h/d then host=h password=*** port=5 and password=***"
        )

    def test_text_without_secrets_is_unchanged(self) -> None:
        text = 'connection to server at "127.0.0.1", port 1 failed: Connection refused'
        assert redact_text(text, uri_secrets("postgresql://app:Zq7K9w@127.0.0.1:1/specs")) == text
