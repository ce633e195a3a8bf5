"""JSON request bodies described by pydantic models: one set of types checks a body and gives
/openapi.json its schema, and a refused body is the API's usual 422 with one message per field path.

The models' field types say how each value is checked and how the schema describes it, side by side
(`Checked`), so the two cannot drift apart. What JSON Schema cannot state (an address that can be
mailed, one product id twice) is in the check and the schema's description, or a post-check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from babel.core import get_global
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from reviews.platform.text import clean, unstorable

# The words a client sees for pydantic's own structural errors; the field types raise `refuse`'s.
_MESSAGES = {
    "missing": "is required",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
}


def refuse(message: str) -> PydanticCustomError:
    """The error a field type raises: `message` is shown as it is, under the field's path."""
    # Through the context, so that braces in a message (an address quoted back) are not a template.
    return PydanticCustomError("attest", "{reason}", {"reason": message})


@dataclass(frozen=True)
class Checked:
    """A field type's metadata (`Annotated[str | None, Checked(check, schema)]`): `check` is its whole
    validation, raising `refuse`, and `schema` its whole JSON Schema, side by side.

    `check` is given the validation's context (`model_validate(..., context=)`) as its second
    argument, an empty mapping when there is none.
    """

    check: Callable[[Any, Mapping[str, Any]], Any]
    schema: Mapping[str, Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: pydantic.GetCoreSchemaHandler) -> CoreSchema:
        check = self.check
        return core_schema.with_info_plain_validator_function(lambda value, info: check(value, info.context or {}))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: pydantic.GetJsonSchemaHandler) -> JsonSchemaValue:
        return dict(self.schema)


def field_errors(exc: pydantic.ValidationError, messages: Mapping[str, str] | None = None, *,
                 root: str = "the body must be a JSON object", unknown: str = "unknown field") -> dict[str, str]:
    """pydantic's errors as the API's `fields`: dotted paths (`customer.email`, `products.0.id`), the
    first problem of each field, `""` for the body itself. `messages` overrides the words for a path
    (`"status"`) or for one kind of error at a path (`"products:too_long"`); `unknown` is said of a
    field a model that forbids extras does not have."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        if path in fields:
            continue
        if error["type"] == "attest":
            fields[path] = error["msg"]
        elif not path and error["type"] in ("model_type", "dict_type"):
            fields[path] = root
        else:
            words = messages or {}
            fields[path] = (words.get(f"{path}:{error['type']}") or words.get(path)
                            or (unknown if error["type"] == "extra_forbidden" else None)
                            or _MESSAGES.get(error["type"], error["msg"]))
    return fields


class _Schema(GenerateJsonSchema):
    """pydantic's JSON Schema without the titles it makes up from field names, nor the defaults of
    the Python side: a field left out means what its description says (unchanged, none)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        generated = super().model_schema(schema)
        generated.pop("title", None)
        return generated


def components(*models: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The models' schemas (and the models they use) for the document's `components.schemas`."""
    found: dict[str, Any] = {}
    for model in models:
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}", schema_generator=_Schema)
        found.update(generated.pop("$defs", {}))
        found[model.__name__] = generated
    return found


# What text fields say in JSON Schema. Its patterns are ECMA-262's, whose `\\s` is not Python's (it
# leaves out \\x1c-\\x1f and \\x85, which `str.strip` trims, and adds \\ufeff), so the blanks that
# `clean` trims are spelled out: `[{SPACE}]` reads the same in both. PostgreSQL stores no NUL; "not a
# string with a NUL" says so, and schemathesis draws long strings for it faster than for `^[^\\x00]*$`.
SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NUL_FREE = {"not": {"type": "string", "pattern": "\\x00"}}
NOT_BLANK = f"[^{SPACE}]"
BLANK = f"^[{SPACE}]*$"


def blank_or(pattern: str) -> str:
    """A pattern for `pattern` with blanks around it, or blanks alone (no value)."""
    return f"^[{SPACE}]*({pattern})?[{SPACE}]*$"


def whole(value: Any) -> int | None:
    """The value as a whole number, as JSON Schema's "integer" has it (2.0 is one), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def text(value: Any, *, max_len: int, required: bool = False, numbers_up_to: int | None = None) -> str | None:
    """A text field: trimmed, None when blank (refused when `required`). Its length is counted as
    sent, as JSON Schema's maxLength counts it. With `numbers_up_to`, a whole number from 0 to that
    is taken too, as its digits (ids: platforms send numbers)."""
    if numbers_up_to is not None and (number := whole(value)) is not None:
        if not 0 <= number <= numbers_up_to:
            raise refuse(f"as a number, must be from 0 to {numbers_up_to}")
        return str(number)
    if value is None:
        if required:
            raise refuse("is required")
        return None
    if not isinstance(value, str):  # floats too: NaN, 1e400 or 1.5 are never an id or a name
        raise refuse("must be a string" if numbers_up_to is None else "must be a string or a whole number")
    if trouble := unstorable(value):
        raise refuse(trouble)
    if len(value) > max_len:
        raise refuse(f"must be at most {max_len} characters")
    trimmed = clean(value)
    if trimmed is None and required:
        raise refuse("is required")
    return trimmed


def text_schema(max_len: int, *, required: bool = False, nullable: bool | None = None,
                numbers_up_to: int | None = None, **extra: Any) -> dict[str, Any]:
    """`text`'s rule as JSON Schema (null is taken unless `required`, or as `nullable` says); `extra`
    adds to it (a pattern, a format, a description)."""
    nullable = not required if nullable is None else nullable
    types = ["string"] + (["integer"] if numbers_up_to is not None else []) + (["null"] if nullable else [])
    schema: dict[str, Any] = {"type": types if len(types) > 1 else types[0], "maxLength": max_len, **NUL_FREE}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK)
    if numbers_up_to is not None:
        schema.update(minimum=0, maximum=numbers_up_to)
    schema.update(extra)
    return schema


# The canonical IANA names of places (CLDR's list, shipped with Babel, so the same on every machine),
# and UTC: exactly the ones a time zone field takes, so that the schema's list of them is the rule. Not
# the host's tzdata, which also holds aliases and oddities (`localtime`, `Factory`, `GMT0` beside `GMT+0`
# and `GMT-0`, which generated clients cannot tell apart), nor `Etc/GMT+1`-style offsets, whose signs
# run backwards and which no shop is in.
ZONES = (*sorted(zone for zone in get_global("zone_territories") if not zone.startswith("Etc/")), "UTC")
_ZONES = frozenset(ZONES)


def known_zone(name: str) -> bool:
    return name in _ZONES
