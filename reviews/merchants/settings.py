"""A merchant's settings: every one it may change, its default and how its value is checked
(the same rules for the CLI, the API and the console).

Beside the settings, the shop's public identity is changed through the same rules and the same
PATCH: its `name` (the merchants row's own column) and `domains`, the website host names it
registered (stored with the settings). Those two are not in `DEFAULT_SETTINGS`, whose keys are the
console's settings form: a form without their fields must not clear them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import email_validator
import idna
import pydantic

from mailer import addresses
from reviews.merchants.branding import DEFAULT_ACCENT, is_hex_colour
from reviews.platform import bodies
from reviews.platform.bodies import Checked, refuse
from reviews.platform.errors import ValidationError
from reviews.platform.text import unstorable

# Every setting a merchant may change, its default and its parser. The defaults are the
# product's opinions: a week after fulfilment, one reminder, ask only with consent.
DEFAULT_SETTINGS: dict[str, Any] = {
    "invite_delay_days": 7,
    "wait_for_delivery": False,
    "send_window": "off",
    "reminder_days": 5,
    "invite_cap_days": 30,
    "require_consent": True,
    "sender_name": None,
    "reply_to": None,
    "logo_url": None,
    "accent_color": DEFAULT_ACCENT,
    "timezone": "Europe/Berlin",
    "shopify_secret": None,
    "woocommerce_secret": None,
}
SECRET_SETTINGS = {"shopify_secret", "woocommerce_secret"}
_DAYS = ("invite_delay_days", "reminder_days", "invite_cap_days")
_FLAGS = ("wait_for_delivery", "require_consent")
MAX_DAYS = 30
MAX_TEXT = 500
_HOURS = "([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]|24):[0-5][0-9]"

IDENTITY = ("name", "domains")
# RFC 6761's special-use domains, which email-validator refuses (mailer.addresses): no mail reaches them.
_SPECIAL_USE = "[.@](" + "|".join("".join(f"[{c.upper()}{c}]" for c in name)
                                    for name in email_validator.SPECIAL_USE_DOMAIN_NAMES) + r")\.?\s*$"
MAX_NAME = 200
MAX_DOMAINS = 20
MAX_HOST = 253
# A registered host name as it is stored: lowercase ASCII labels (international names IDNA-encoded,
# "xn--bcher-kva.de"), at least two, the last starting with a letter (so never an IP address); no
# scheme, path, port or user. The JSON body takes exactly these; typed text is normalised first.
_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOST_PATTERN = f"^({_LABEL}\\.)+[a-z]([a-z0-9-]{{0,61}}[a-z0-9])?$"
_HOST = re.compile(HOST_PATTERN)


def parse_name(raw: Any) -> str:
    """The shop's public name: 1 to 200 characters once trimmed."""
    text = str(raw).strip() if raw is not None else ""
    if trouble := unstorable(text):
        raise ValidationError({"name": trouble})
    if not text or len(text) > MAX_NAME:
        raise ValidationError({"name": f"must be 1 to {MAX_NAME} characters"})
    return text


def _checked_host(host: str) -> str | None:
    """Why a stored-form host name is refused, or None."""
    if len(host) > MAX_HOST or not _HOST.fullmatch(host):
        return "is not a host name like shop.example (lowercase, no scheme, path or port)"
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError:
                return "has an xn-- label that is not valid IDNA"
    return None


def normalise_host(text: str) -> str:
    """A host name as a person types it ("Bücher.de.", "WWW.Shop.example") in its stored form, or a
    ValidationError saying why it cannot be one (a URL, a port, an address)."""
    host = text.strip().lower().rstrip(".")
    if re.search(r"[/:?#@\\\s]", host):
        raise ValidationError({"domains": f"{text.strip()[:80]!r}: only the host name, without https://, a path "
                                          "or a port"})
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ValidationError({"domains": f"{text.strip()[:80]!r} is not a valid international "
                                              "domain name"}) from None
    if trouble := _checked_host(host):
        raise ValidationError({"domains": f"{text.strip()[:80]!r} {trouble}"})
    return host


def parse_domains(raw: Any) -> list[str]:
    """The registered website domains: a JSON list of stored-form host names (the API), or text of
    host names separated by commas or blanks (the CLI, a form), normalised. Empty clears them."""
    if raw is None:
        return []
    if isinstance(raw, str):
        hosts = [normalise_host(part) for part in re.split(r"[,\s]+", raw) if part.strip()]
        hosts = list(dict.fromkeys(hosts))  # typed twice is one domain
    elif isinstance(raw, list):
        hosts = []
        for i, host in enumerate(raw):
            if not isinstance(host, str):
                raise ValidationError({"domains": f"item {i} must be a string"})
            if trouble := _checked_host(host):
                raise ValidationError({"domains": f"item {i} {trouble}"})
            if host in hosts:
                raise ValidationError({"domains": f"item {i} appears twice"})
            hosts.append(host)
    else:
        raise ValidationError({"domains": "must be a list of host names"})
    if len(hosts) > MAX_DOMAINS:
        raise ValidationError({"domains": f"at most {MAX_DOMAINS} domains"})
    return hosts


def parse_setting(key: str, raw: Any) -> Any:
    """Validate one setting (or `name`, `domains`) from the CLI (strings) or the API (JSON values)."""
    if key == "name":
        return parse_name(raw)
    if key == "domains":
        return parse_domains(raw)
    if key not in DEFAULT_SETTINGS:
        raise ValidationError({key: "unknown setting"})
    text = str(raw).strip() if raw is not None else ""
    if trouble := unstorable(text):  # jsonb takes no NUL
        raise ValidationError({key: trouble})
    if key in _DAYS:
        try:
            value = int(text)
        except ValueError:
            raise ValidationError({key: "must be a whole number of days"}) from None
        if not 0 <= value <= MAX_DAYS:
            raise ValidationError({key: f"must be between 0 and {MAX_DAYS}"})
        return value
    if key in _FLAGS:
        if isinstance(raw, bool):
            return raw
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValidationError({key: "must be true or false"})
    if key == "send_window":
        if text.lower() in ("off", "", "none"):
            return "off"
        if not re.fullmatch(_HOURS, text) or text[:5] >= text[6:]:
            raise ValidationError({key: "must look like 09:00-20:00, or off"})
        return text
    if key == "accent_color":
        if not is_hex_colour(text):
            raise ValidationError({key: "must be a colour like #1f6feb"})
        return text
    if key == "timezone":
        if not bodies.known_zone(text):
            raise ValidationError({key: "unknown time zone"})
        return text
    if key in ("logo_url",) and text and not re.match(r"^https?://", text):
        raise ValidationError({key: "must be an http(s) URL"})
    if key == "reply_to" and text:
        try:
            text = addresses.parse(text).normalized
        except addresses.AddressError as exc:
            raise ValidationError({key: f"is not an address we can mail: {exc}"}) from None
    if len(text) > MAX_TEXT:
        raise ValidationError({key: "too long"})
    return text or None


# The body of PATCH /api/v1/merchant/settings: JSON's own types (a number of days, true or false,
# text or null to clear it), each then held to `parse_setting`'s rule, which the CLI's strings
# share. Each field type carries its JSON Schema beside its check (`bodies.Checked`).

def _rule(key: str) -> Callable[[Any, Mapping[str, Any]], Any]:
    def check(value: Any, context: Mapping[str, Any]) -> Any:
        if key in _DAYS:
            value = bodies.whole(value)
            if value is None:
                raise refuse("must be a whole number of days")
        if key in _FLAGS and not isinstance(value, bool):
            raise refuse("must be true or false")
        if key not in _DAYS and key not in _FLAGS:
            value = bodies.text(value, max_len=MAX_TEXT)
        try:
            return parse_setting(key, value)
        except ValidationError as exc:
            raise refuse(exc.fields[key]) from None

    return check


def _setting(key: str, **schema: Any) -> Checked:
    return Checked(_rule(key), schema)


def _days(key: str, description: str) -> Checked:
    return _setting(key, type="integer", minimum=0, maximum=MAX_DAYS, description=description)


def _text(key: str, *, nullable: bool = True, **extra: Any) -> Checked:
    return Checked(_rule(key), bodies.text_schema(MAX_TEXT, nullable=nullable, **extra))


def _identity(key: str) -> Callable[[Any, Mapping[str, Any]], Any]:
    def check(value: Any, context: Mapping[str, Any]) -> Any:
        if key == "name":
            value = bodies.text(value, max_len=MAX_NAME, required=True)
        elif value is not None and not isinstance(value, list):
            raise refuse("must be a list of host names, or null")
        try:
            return parse_setting(key, value)
        except ValidationError as exc:
            raise refuse(exc.fields[key]) from None

    return check


_NAME = Checked(_identity("name"), bodies.text_schema(
    MAX_NAME, required=True, description="The shop's public name, shown in every email, page and widget."))
_DOMAINS = Checked(_identity("domains"), {
    "type": ["array", "null"], "maxItems": MAX_DOMAINS, "uniqueItems": True,
    "items": {"type": "string", "maxLength": MAX_HOST, "pattern": HOST_PATTERN},
    "description": "The shop's website host names (replacing the ones registered; [] or null for none): "
                   "lowercase, international names IDNA-encoded (xn--bcher-kva.de), no scheme, path or port. "
                   "The trust badge shows the rating only on these; the public page names them."})


class SettingsPatch(pydantic.BaseModel):
    """The settings to change; those left out stay as they are (`DEFAULT_SETTINGS` until set)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: Annotated[str | None, _NAME] = None
    domains: Annotated[list[str] | None, _DOMAINS] = None

    invite_delay_days: Annotated[int | None, _days("invite_delay_days",
                                                   "Days after fulfilment (or delivery) before inviting.")] = None
    wait_for_delivery: Annotated[bool | None, _setting("wait_for_delivery", type="boolean")] = None
    send_window: Annotated[str | None, _text(
        "send_window", pattern=bodies.blank_or(f"[Oo][Ff][Ff]|[Nn][Oo][Nn][Ee]|{_HOURS}"),
        description="HH:MM-HH:MM in the buyer's local time, the start before the end; off, blank or null for "
                    "none.")] = None
    reminder_days: Annotated[int | None, _days("reminder_days", "Days after the invitation; 0 for none.")] = None
    invite_cap_days: Annotated[int | None, _days("invite_cap_days",
                                                 "At most one invitation per address in this many days; 0 for "
                                                 "no cap.")] = None
    require_consent: Annotated[bool | None, _setting("require_consent", type="boolean")] = None
    sender_name: Annotated[str | None, _text("sender_name")] = None
    # `format: email` allows the special-use domains (RFC 6761: .test, .invalid, ...) that no mail can
    # reach and the API refuses; the `not` says so, so the schema and the API agree.
    reply_to: Annotated[str | None, _text("reply_to", anyOf=[{"format": "email"}, {"pattern": bodies.BLANK}],
                                          **{"not": {"type": "string", "pattern": _SPECIAL_USE}},
                                          description="An address that can be mailed (not at a special-use domain "
                                                      "such as .test); blank or null for none.")] = None
    logo_url: Annotated[str | None, _text("logo_url", pattern=bodies.blank_or("https?://[^\\x00]*"))] = None
    accent_color: Annotated[str | None, _text("accent_color", nullable=False,
                                              pattern=f"^[{bodies.SPACE}]*#([0-9a-fA-F]{{3}}){{1,2}}[{bodies.SPACE}]*$",
                                              description="A colour like #1f6feb.")] = None
    timezone: Annotated[str | None, _text("timezone", nullable=False, enum=list(bodies.ZONES))] = None
    shopify_secret: Annotated[str | None, _text("shopify_secret", writeOnly=True)] = None
    woocommerce_secret: Annotated[str | None, _text("woocommerce_secret", writeOnly=True)] = None


def parse_patch(body: Any) -> dict[str, Any]:
    """The settings a PATCH changes, checked: a 422 naming every refused one."""
    try:
        patch = SettingsPatch.model_validate(body)
    except pydantic.ValidationError as exc:
        raise ValidationError(bodies.field_errors(exc, root="the body must be a JSON object of settings",
                                                  unknown="unknown setting")) from None
    return patch.model_dump(exclude_unset=True)
