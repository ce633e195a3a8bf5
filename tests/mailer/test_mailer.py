"""mailer/: composing in every language, DKIM, and sending to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import html as html_lib
import re
import socket
import ssl
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mailer import (
    Branding,
    DkimConfig,
    EmailProduct,
    InvitationEmail,
    OutboxTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    compose,
    compose_invitation,
    sign_message,
    transport_from_settings,
)
from mailer import transport as transport_module
from mailer.message import html_wire
from mailer.rendering import DOMAIN, LOCALES_DIR, TEMPLATES_DIR
from mailer.transport import parse_smtp_url, recipient_unknown
from reviews.merchants.branding import DEFAULT_ACCENT, colours
from reviews.platform.i18n import Catalog

LOCALES = ("en", "es", "it", "pl", "ro", "de", "fr")
HOSTILE = "Bob's <script>alert(1)</script> & Co"
NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
MAIL = Catalog(LOCALES_DIR, DOMAIN)


# --- helpers ------------------------------------------------------------------------------


def make_email(
    *,
    locale: str = "en",
    kind: str = "invitation",
    to: str = "anna@example.com",
    shop: str = "Ceramica Rossi",
    product_name: str = "Blue mug",
    message_id: str = "<inv-42.3f9a@attest.example>",
    unsubscribe_url: str = "https://attest.example/u/TOKEN",
    **branding: object,
) -> InvitationEmail:
    # As Attest's caller does: the accent checked by merchants.branding, the catalog of the language.
    colour = colours(branding.pop("accent_color", DEFAULT_ACCENT))
    return InvitationEmail(
        kind=kind,
        to_address=to,
        to_name="Anna Kowalska",
        locale=locale,
        catalog=MAIL.translations(locale),
        branding=Branding(
            shop_name=shop,
            accent_color=colour.accent,
            on_accent=colour.on_accent,
            reply_to="hello@rossi.example",
            logo_url="https://rossi.example/logo.png",
            **branding,  # type: ignore[arg-type]
        ),
        products=[
            EmailProduct(product_name, "https://rossi.example/mug.jpg", stars(1)),
            EmailProduct("Teapot", None, stars(2)),
        ],
        review_url="https://attest.example/r/T",
        unsubscribe_url=unsubscribe_url,
        message_id=message_id,
        from_address="reviews@attest.example",
    )


def stars(product: int) -> list[str]:
    return [f"https://attest.example/r/T?s={n}&p={product}" for n in range(1, 6)]


def parts(msg: EmailMessage) -> tuple[str, str]:
    reparsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(reparsed, EmailMessage)
    text = reparsed.get_body(("plain",))
    html = reparsed.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- compose ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_compose_in_every_language(locale: str) -> None:
    msg = compose_invitation(make_email(locale=locale), now=NOW)
    english = compose_invitation(make_email(locale="en"), now=NOW)
    text, html = parts(msg)
    en_text, _ = parts(english)

    assert msg["Content-Language"] == locale
    assert msg.get_content_type() == "multipart/alternative"
    assert f'<html lang="{locale}"' in html
    assert "Ceramica Rossi" in msg["Subject"]
    if locale != "en":
        assert msg["Subject"] != english["Subject"]
        assert text != en_text
        assert "Write a review" not in html and "out of 5" not in html and "out of 5" not in text
    # Five star links per product, each with an accessible label and a big tap target.
    stars = [a for a in tags(html, "a") if a.get("aria-label")]
    assert len(stars) == 10
    assert [a["href"] for a in stars[:5]] == [f"https://attest.example/r/T?s={n}&p=1" for n in range(1, 6)]
    for a in stars:
        assert "5" in (a["aria-label"] or "")
        style = a["style"] or ""
        assert int(re.search(r"(?<![-\w])width:(\d+)px", style).group(1)) >= 40  # type: ignore[union-attr]
        assert int(re.search(r"(?<![-\w])height:(\d+)px", style).group(1)) >= 40  # type: ignore[union-attr]
    assert html_lib.unescape(html).count("★") == 10
    assert text.count("https://attest.example/r/T?s=") == 10
    # The HTML part spells non-ASCII as character references: 7-bit as it is, no quoted-printable.
    html_part = email.message_from_bytes(msg.as_bytes(), policy=policy.default).get_body(("html",))
    assert html_part is not None and html_part["Content-Transfer-Encoding"] == "7bit" and html.isascii()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("shop", "buyer", "product"),
    [
        ("Ceramica Rossi", "Anna Kowalska", "Blue mug"),
        (HOSTILE, 'Zoë "Z" <b>Ångström</b> & Co ' + "very " * 20 + "long", "Mug <img src=x> & saucer ★"),
        ("Żółta Łódź", "", "x" * 1200),
    ],
)
def test_cached_frame_renders_exactly_as_the_templates(locale: str, shop: str, buyer: str, product: str) -> None:
    """An email is a frame rendered once per layout, filled with its values: byte for byte what
    the templates render with the values themselves."""
    email_ = InvitationEmail(**{**make_email(locale=locale, shop=shop, product_name=product).__dict__,
                                "to_name": buyer})
    values = compose._slot_values(email_)
    layout = compose._Layout(
        locale=locale, kind=email_.kind, shop=shop, named=bool(buyer), logo_url="https://rossi.example/logo.png",
        catalog=email_.catalog, accent=DEFAULT_ACCENT, on_accent="#ffffff", valid_days=email_.link_valid_days,
        has_reply_to=True, images=(True, False),
    )
    subject, text, html = compose.render_parts(layout, values)
    frame = compose._frame(layout)
    assert frame.subject == subject
    assert frame.fill_text(values) == text
    assert frame.fill_html(values) == html_wire(html)
    assert product in text
    if buyer:
        assert buyer in text.splitlines()[2]  # the greeting, one line however long the name


def test_a_line_too_long_for_7bit_makes_the_part_quoted_printable() -> None:
    msg = compose_invitation(make_email(product_name="Mug " + "ł" * 1000), now=NOW)
    raw = msg.as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    reparsed = email.message_from_bytes(raw, policy=policy.default)
    html_part = reparsed.get_body(("html",))
    assert html_part is not None and html_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Mug " + "ł" * 1000 in html_lib.unescape(html_part.get_content())


def test_headers() -> None:
    msg = compose_invitation(make_email(), now=NOW)
    assert msg["Message-ID"] == "<inv-42.3f9a@attest.example>"
    assert msg["From"] == "Ceramica Rossi <reviews@attest.example>"
    assert msg["To"] == "Anna Kowalska <anna@example.com>"
    assert msg["Reply-To"] == "Ceramica Rossi <hello@rossi.example>"
    assert msg["Subject"] == "How was your order from Ceramica Rossi?"
    assert msg["Date"] == "Mon, 05 Jan 2026 10:00:00 +0000"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == "<https://attest.example/u/TOKEN>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Precedence"] is None


def test_reminder_wording_differs() -> None:
    invitation = compose_invitation(make_email(kind="invitation"))
    reminder = compose_invitation(make_email(kind="reminder"))
    assert reminder["Subject"].startswith("Reminder:")
    assert parts(reminder)[0] != parts(invitation)[0]


def test_sender_name_non_ascii_is_encoded() -> None:
    msg = compose_invitation(make_email(shop="Żółta Łódź", sender_name="Café Żółw"))
    raw = msg.as_bytes()
    assert raw.isascii()  # RFC 2047 encoded words, 7-bit everywhere
    reparsed = email.message_from_bytes(raw, policy=policy.default)
    assert reparsed["From"].addresses[0].display_name == "Café Żółw"
    assert "Żółta Łódź" in reparsed["Subject"]


@pytest.mark.parametrize(
    ("shop", "buyer"),
    [
        ('Bob "The Potter" <bob@evil.example>, Ltd.', "Anna K. (VIP)"),
        ("Żółta Łódź & Synowie, sklep z ceramiką artystyczną i pamiątkami z całej Polski", "Zoë Ångström"),
        ("Shop =?utf-8?q?Fake?= Name", "=?utf-8?b?QWRtaW4=?="),
        ("X" * 120, "Y" * 100),
    ],
)
def test_headers_round_trip_hostile_and_long_names(shop: str, buyer: str) -> None:
    email_ = make_email(shop=shop, sender_name=shop)
    email_ = InvitationEmail(**{**email_.__dict__, "to_name": buyer})
    raw = compose_invitation(email_, now=NOW).as_bytes()
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    reparsed = email.message_from_bytes(raw, policy=policy.default)
    assert not reparsed.defects
    assert [(a.display_name, a.addr_spec) for a in reparsed["From"].addresses] == [(shop, "reviews@attest.example")]
    assert [(a.display_name, a.addr_spec) for a in reparsed["Reply-To"].addresses] == [(shop, "hello@rossi.example")]
    assert [(a.display_name, a.addr_spec) for a in reparsed["To"].addresses] == [(buyer, "anna@example.com")]
    assert shop in reparsed["Subject"]
    assert len(reparsed.get_all("From")) == len(reparsed.get_all("To")) == 1


def test_non_ascii_domain_goes_out_in_idna_and_a_non_ascii_mailbox_needs_smtputf8() -> None:
    # An internationalised domain needs nothing of the server: its IDNA form is ASCII (issue 14).
    msg = compose_invitation(make_email(to="anna@bücher.example", shop="Café Żółw"), now=NOW)
    assert not msg.smtputf8 and msg.addresses["to"][0].addr_spec == "anna@xn--bcher-kva.example"
    # A non-ASCII mailbox does (RFC 6531): the headers are then UTF-8 (RFC 6532), which the bytes
    # parser does not decode: parse them as text.
    msg = compose_invitation(make_email(to="zoë@bücher.example", shop="Café Żółw"), now=NOW)
    assert msg.smtputf8
    reparsed = email.message_from_string(msg.as_bytes().decode("utf-8"), policy=policy.default)
    assert reparsed["To"].addresses[0].addr_spec == "zoë@bücher.example"  # SMTPUTF8 takes the domain as it is
    assert "Café Żółw" in reparsed["Subject"]


def test_long_unsubscribe_url_is_kept_whole() -> None:
    url = "https://attest.example/u/" + "A" * 180
    raw = compose_invitation(make_email(unsubscribe_url=url)).as_bytes()
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw


def test_content_escapes_hostile_names_and_has_no_tracking() -> None:
    msg = compose_invitation(make_email(shop=HOSTILE, product_name="Mug <img src=x onerror=alert(1)> & saucer"))
    text, html = parts(msg)
    assert "<script>" not in html and "<img src=x" not in html
    assert "Bob&#39;s &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "Mug &lt;img src=x onerror=alert(1)&gt; &amp; saucer" in html
    assert HOSTILE in text and "&amp;" not in text and "&lt;" not in text
    assert HOSTILE in msg["Subject"]
    # No tracking pixel, no link rewriting: only the shop's images and our own links.
    images = tags(html, "img")
    assert {i["src"] for i in images} == {"https://rossi.example/logo.png", "https://rossi.example/mug.jpg"}
    assert not [i for i in images if i.get("width") in ("0", "1") or i.get("height") in ("0", "1")]
    allowed = {"https://attest.example/r/T", "https://attest.example/u/TOKEN"}
    allowed |= {f"https://attest.example/r/T?s={n}&p={p}" for n in range(1, 6) for p in (1, 2)}
    assert {a["href"] for a in tags(html, "a")} == allowed
    assert "<link" not in html and "@import" not in html and "<style" not in html


def test_body_content() -> None:
    text, html = parts(compose_invitation(make_email()))
    for part in (" ".join(text.split()), html):
        assert "Hello Anna Kowalska," in part
        assert "automatic check for duplicates" in part
        assert "Positive and negative reviews are treated exactly the same way." in part
        assert "valid for 30 days" in part
        assert "because you placed an order at Ceramica Rossi" in part
        assert "Unsubscribe from review requests" in part
    assert "Unsubscribe from review requests: https://attest.example/u/TOKEN" in text
    assert "Write your review: https://attest.example/r/T" in text
    assert "Blue mug" in text and "Teapot" in text


def test_layout_fits_small_screens() -> None:
    _, html = parts(compose_invitation(make_email()))
    assert "max-width:600px" in html
    widths = [int(w) for w in re.findall(r'\bwidth="(\d+)"', html)]
    widths += [int(w) for w in re.findall(r"(?<![-\w])width:(\d+)px", html)]
    assert widths and max(widths) <= 360
    for img in tags(html, "img"):
        assert "max-width:100%" in (img["style"] or "")


def test_accent_colour_is_validated() -> None:
    assert colours("red;}body{background:url(x)").accent == DEFAULT_ACCENT
    assert colours("#AbC").accent == "#AbC"
    _, html = parts(compose_invitation(make_email(accent_color="#ffd700")))
    assert "background-color:#ffd700" in html
    assert "color:#111111" in html  # dark text on a light button


def test_rejects_malformed_input() -> None:
    with pytest.raises(ValueError):
        compose_invitation(make_email(kind="newsletter"))
    with pytest.raises(ValueError):
        compose_invitation(make_email(unsubscribe_url="https://x.example/u/a b"))
    bad = make_email()
    bad.products[0].star_urls.pop()
    with pytest.raises(ValueError):
        compose_invitation(bad)


def test_catalogs_translate_every_message() -> None:
    extracted = [
        message
        for *_, message, _comments, _context in extract_from_dir(
            str(TEMPLATES_DIR),
            method_map=[("**.html", "jinja2"), ("**.txt", "jinja2")],
            options_map={"**": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
        )
    ]
    assert len(extracted) > 10
    placeholders = re.compile(r"%\(\w+\)s")
    for locale in LOCALES:
        with (LOCALES_DIR / locale / "LC_MESSAGES" / "mailer.po").open("rb") as f:
            catalog = read_po(f, locale=locale)
        for message in extracted:
            entry = catalog.get(message if isinstance(message, str) else message[0])
            assert entry is not None, (locale, message)
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if entry.pluralizable:
                assert len(strings) == catalog.num_plurals
            msgid = message if isinstance(message, str) else message[-1]
            for translated in strings:
                assert translated, (locale, message)
                assert sorted(placeholders.findall(translated)) == sorted(placeholders.findall(msgid))
                if locale != "en":
                    assert translated != msgid, (locale, translated)


# --- DKIM ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dkim_key() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)


def dnsfunc_for(record: bytes):  # type: ignore[no-untyped-def]
    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return record if name.rstrip(b".") == b"mail2026._domainkey.attest.example" else None

    return dnsfunc


def test_dkim_sign_and_verify(dkim_key: tuple[bytes, bytes]) -> None:
    private_pem, record = dkim_key
    msg = compose_invitation(make_email(shop="Café Żółw"))
    signed = sign_message(msg, selector="mail2026", domain="attest.example", private_key_pem=private_pem)
    raw = signed.as_bytes()
    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dnsfunc_for(record))

    signature = signed["DKIM-Signature"].replace(" ", "")
    assert "c=relaxed/relaxed" in signature
    signed_headers = re.search(r"h=([^;]+)", signature).group(1).lower().split(":")  # type: ignore[union-attr]
    for name in ("from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"):
        assert name in signed_headers

    tampered = re.sub(rb"\r\nSubject:[^\r]*(\r\n[ \t][^\r]*)*", b"\r\nSubject: You won a prize", raw, count=1)
    assert tampered != raw
    assert not dkim.verify(tampered, dnsfunc=dnsfunc_for(record))


# --- outbox -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_outbox_writes_eml_files(tmp_path: Path, dkim_key: tuple[bytes, bytes]) -> None:
    private_pem, record = dkim_key
    outbox = tmp_path / "outbox"
    transport = transport_from_settings(None, outbox, DkimConfig("mail2026", "attest.example", private_pem))
    assert isinstance(transport, OutboxTransport)
    async with transport.session() as session:
        for n in range(3):
            await session.send(compose_invitation(make_email(message_id=f"<inv-{n}.x/y@attest.example>")))
        await session.send(compose_invitation(make_email(message_id="<inv-0.x/y@attest.example>")))  # resent

    files = sorted(outbox.iterdir())
    assert len(files) == 4  # a resend never overwrites
    assert all(re.fullmatch(r"\d{8}T\d{12}Z-[A-Za-z0-9._-]+\.eml", f.name) for f in files)
    ids = set()
    for f in files:
        raw = f.read_bytes()
        assert dkim.verify(raw, dnsfunc=dnsfunc_for(record))
        parsed = email.message_from_bytes(raw, policy=policy.default)
        ids.add(parsed["Message-ID"])
        assert parsed.get_body(("html",)) is not None
    assert ids == {f"<inv-{n}.x/y@attest.example>" for n in range(3)}


# --- SMTP ---------------------------------------------------------------------------------


class RecordingHandler:
    """Records messages and connections; some addresses and a flag provoke failures."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.peers: set[object] = set()  # one per connection: the client EHLOs on each
        self.tls: list[bool] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.rcpts: list[str] = []
        self.mail_options: list[list[str]] = []
        self.drop_next_data = False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        self.peers.add(session.peer)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        if address.startswith("nobody@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        envelope.rcpt_tos.append(address)
        self.rcpts.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.drop_next_data:
            self.drop_next_data = False
            server.transport.abort()  # the connection dies before the reply
            return "250 never seen"
        self.messages.append(envelope.original_content)
        self.mail_options.append(list(envelope.mail_options))
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)


class Server:
    def __init__(self, handler: RecordingHandler, port: int) -> None:
        self.handler = handler
        self.port = port


@pytest.fixture
def start_server() -> Iterator:  # type: ignore[type-arg]
    controllers: list[Controller] = []

    def start(**kwargs: object) -> Server:
        handler = RecordingHandler()
        if kwargs.pop("auth", False):
            kwargs |= {"authenticator": handler.authenticate, "auth_require_tls": False}
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return Server(handler, port)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def server(start_server) -> Server:  # type: ignore[no-untyped-def]
    return start_server()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.mark.asyncio
async def test_batch_uses_one_connection(server: Server, dkim_key: tuple[bytes, bytes]) -> None:
    private_pem, record = dkim_key
    transport = transport_from_settings(
        f"smtp://127.0.0.1:{server.port}", Path("unused"), DkimConfig("mail2026", "attest.example", private_pem)
    )
    assert isinstance(transport, SmtpTransport)
    async with transport.session() as session:
        for n in range(3):
            assert await session.send(compose_invitation(make_email(message_id=f"<inv-{n}@attest.example>"))) is None
    assert len(server.handler.messages) == 3
    assert len(server.handler.peers) == 1
    received = email.message_from_bytes(server.handler.messages[0], policy=policy.default)
    assert received["Message-ID"] == "<inv-0@attest.example>"
    assert dkim.verify(server.handler.messages[0], dnsfunc=dnsfunc_for(record))


@pytest.mark.asyncio
async def test_sessions_in_quick_succession_share_one_connection(server: Server,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's batches follow each other: the connection (and its EHLO) is kept between their
    sessions, unless it waited longer than a server may keep an idle client."""
    transport = SmtpTransport(f"smtp://127.0.0.1:{server.port}")
    for n in range(3):
        async with transport.session() as session:
            await session.send(compose_invitation(make_email(message_id=f"<s{n}@attest.example>")))
    assert len(server.handler.messages) == 3 and len(server.handler.peers) == 1
    monkeypatch.setattr(transport_module, "IDLE_REUSE_SECONDS", 0.0)
    async with transport.session() as session:
        await session.send(compose_invitation(make_email(message_id="<late@attest.example>")))
    assert len(server.handler.messages) == 4 and len(server.handler.peers) == 2
    await transport.close()
    assert transport._idle is None


@pytest.mark.asyncio
async def test_data_waits_for_the_before_data_hook(server: Server) -> None:
    """The worker records the previous acceptance in this hook: the server must not get this
    message's data (the only thing it can accept) until the hook is done."""
    release = asyncio.Event()

    async def recording_previous() -> None:
        await release.wait()

    async def failing_record() -> None:
        raise RuntimeError("database gone")

    async with SmtpTransport(f"smtp://127.0.0.1:{server.port}").session() as session:
        sending = asyncio.ensure_future(
            session.send(compose_invitation(make_email(message_id="<a@attest.example>")), recording_previous()))
        deadline = time.monotonic() + 10
        while not server.handler.rcpts and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert server.handler.rcpts == ["anna@example.com"]  # the envelope went ahead
        assert not sending.done() and server.handler.messages == []  # the data did not
        release.set()
        await sending
        assert len(server.handler.messages) == 1

        with pytest.raises(RuntimeError, match="database gone"):
            await session.send(compose_invitation(make_email(message_id="<b@attest.example>")), failing_record())
        await session.send(compose_invitation(make_email(message_id="<c@attest.example>")))
    ids = [email.message_from_bytes(m, policy=policy.default)["Message-ID"] for m in server.handler.messages]
    assert ids == ["<a@attest.example>", "<c@attest.example>"]


@pytest.mark.asyncio
async def test_a_send_with_the_hook_is_the_same_smtp_transaction(start_server) -> None:  # type: ignore[no-untyped-def]
    """With `before_data` the transaction is still the one aiosmtplib's `sendmail` runs: the message's
    SIZE, SMTPUTF8 for an internationalised address, and a refused recipient leaves the connection
    ready for the next message."""
    server = start_server(enable_SMTPUTF8=True)
    done: list[str] = []

    async def recorded() -> None:
        done.append("previous")

    async with SmtpTransport(f"smtp://127.0.0.1:{server.port}").session() as session:
        await session.send(compose_invitation(make_email(to="zoë@bücher.example", message_id="<u@attest.example>")),
                           recorded())
        with pytest.raises(PermanentFailure):
            await session.send(compose_invitation(make_email(to="nobody@example.com")), recorded())
        await session.send(compose_invitation(make_email(message_id="<after@attest.example>")), recorded())
    assert done == ["previous"] * 3
    assert server.handler.rcpts == ["zoë@bücher.example", "anna@example.com"]
    assert len(server.handler.messages) == 2 and len(server.handler.peers) == 1
    sizes = [[o for o in options if o.upper().startswith("SIZE=")] for options in server.handler.mail_options]
    assert sizes == [[f"SIZE={len(m)}"] for m in server.handler.messages]
    assert "SMTPUTF8" in server.handler.mail_options[0] and "SMTPUTF8" not in server.handler.mail_options[1]


@pytest.mark.asyncio
async def test_temporary_rejection(server: Server) -> None:
    async with SmtpTransport(f"smtp://127.0.0.1:{server.port}").session() as session:
        with pytest.raises(TemporaryFailure) as caught:
            await session.send(compose_invitation(make_email(to="busy@example.com")))
        await session.send(compose_invitation(make_email()))  # the session carries on
    assert caught.value.code == 451
    assert "Mailbox busy" in caught.value.message
    assert len(server.handler.messages) == 1
    assert len(server.handler.peers) == 1


@pytest.mark.asyncio
async def test_unknown_recipient(server: Server) -> None:
    async with SmtpTransport(f"smtp://127.0.0.1:{server.port}").session() as session:
        with pytest.raises(PermanentFailure) as caught:
            await session.send(compose_invitation(make_email(to="nobody@example.com")))
        await session.send(compose_invitation(make_email()))
    assert caught.value.code == 550
    assert caught.value.recipient_unknown
    assert "User unknown" in caught.value.message
    assert len(server.handler.messages) == 1


@pytest.mark.asyncio
async def test_dropped_connection_then_reconnect(server: Server) -> None:
    async with SmtpTransport(f"smtp://127.0.0.1:{server.port}").session() as session:
        await session.send(compose_invitation(make_email(message_id="<a@attest.example>")))
        server.handler.drop_next_data = True
        with pytest.raises(TemporaryFailure) as caught:
            await session.send(compose_invitation(make_email(message_id="<b@attest.example>")))
        await session.send(compose_invitation(make_email(message_id="<c@attest.example>")))
    assert caught.value.code is None
    ids = [email.message_from_bytes(m, policy=policy.default)["Message-ID"] for m in server.handler.messages]
    assert ids == ["<a@attest.example>", "<c@attest.example>"]
    assert len(server.handler.peers) == 2


@pytest.mark.asyncio
async def test_connection_refused_is_temporary() -> None:
    with pytest.raises(TemporaryFailure) as caught:
        await SmtpTransport(f"smtp://127.0.0.1:{free_port()}").send(compose_invitation(make_email()))
    assert caught.value.code is None


@pytest.mark.asyncio
async def test_silent_server_times_out() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # never greets
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TemporaryFailure):
            await SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=0.2).send(compose_invitation(make_email()))
    finally:
        release.set()
        listener.close()
        await listener.wait_closed()


@pytest.mark.asyncio
async def test_credentials_are_url_decoded(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server(auth=True)
    url = f"smtp://shop%40example.com:p%3Ass%2Fw%40rd@127.0.0.1:{server.port}?starttls=off"
    await SmtpTransport(url).send(compose_invitation(make_email()))
    assert server.handler.logins == [(b"shop@example.com", b"p:ss/w@rd")]


@pytest.mark.asyncio
async def test_starttls(start_server, tls_files) -> None:  # type: ignore[no-untyped-def]
    server = start_server(tls_context=server_tls_context(tls_files), require_starttls=True)
    await SmtpTransport(f"smtp+starttls://127.0.0.1:{server.port}?tls_verify=off").send(
        compose_invitation(make_email())
    )
    # Plain smtp:// upgrades on its own when the server offers STARTTLS.
    await SmtpTransport(f"smtp://127.0.0.1:{server.port}?tls_verify=off").send(compose_invitation(make_email()))
    assert server.handler.tls == [True, True]
    # A self-signed certificate is refused unless verification is turned off.
    with pytest.raises(TemporaryFailure):
        await SmtpTransport(f"smtp+starttls://127.0.0.1:{server.port}").send(compose_invitation(make_email()))


@pytest.mark.asyncio
async def test_implicit_tls(start_server, tls_files) -> None:  # type: ignore[no-untyped-def]
    server = start_server(ssl_context=server_tls_context(tls_files))
    await SmtpTransport(f"smtps://127.0.0.1:{server.port}?tls_verify=off").send(compose_invitation(make_email()))
    assert server.handler.tls == [True]


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example")
    assert (plain.port, plain.start_tls, plain.use_tls, plain.validate_certs) == (25, None, False, True)
    assert parse_smtp_url("smtp://mail.example?starttls=off").start_tls is False
    required = parse_smtp_url("smtp+starttls://u:p@mail.example")
    assert (required.port, required.start_tls, required.username, required.password) == (587, True, "u", "p")
    implicit = parse_smtp_url("smtps://mail.example?tls_verify=off")
    assert (implicit.port, implicit.use_tls, implicit.start_tls, implicit.validate_certs) == (465, True, False, False)
    assert parse_smtp_url("smtps://mail.example:2465").port == 2465
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example")


@pytest.mark.parametrize(
    ("code", "reply", "unknown"),
    [
        (550, "5.1.1 <a@b.example>: Recipient address rejected: User unknown in local recipient table", True),
        (550, "No such user here", True),
        (553, "Sorry, that mailbox does not exist", True),
        (551, "User not local; please try <x@y>", False),
        (550, "Requested action not taken: mailbox unavailable", True),
        (550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", True),
        (550, "5.7.1 Service unavailable; client host blocked, mailbox unavailable", False),
        (554, "5.7.1 Message rejected as spam", False),
        (552, "5.2.2 Mailbox full", False),
    ],
)
def test_recipient_unknown(code: int, reply: str, unknown: bool) -> None:
    assert recipient_unknown(code, reply) is unknown
