"""Text from outside: no control characters, no unpaired surrogates, before anything is stored.

PostgreSQL text cannot hold U+0000 and no UTF-8 text can hold an unpaired surrogate (U+D800 to
U+DFFF), so either would fail in the database or, stored on SQLite or inside JSON, fail every
later response that shows it. Other control characters (Unicode category Cc) are refused too: an
id or a symbol never needs one. Free text (a ``reason``, a ``note``, a ``name``) may hold tab,
line feed and carriage return. Every request model derives from :class:`CheckedText`, so every
string field of every request, nested lists and mappings included, is checked by construction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

# Field names whose text is prose: tab, line feed and carriage return are allowed there.
FREE_TEXT_FIELDS: Final = frozenset({"reason", "note", "name", "description", "message"})
MAX_CLIENT_ORDER_ID: Final = 128

_STRICT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FREE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class TextError(ValueError):
    """A string that holds a control character or an unpaired surrogate."""


def text_problem(value: str, *, free_text: bool = False) -> str | None:
    """What is wrong with ``value`` (the first offending character), or ``None`` if it is clean."""
    found = (_FREE if free_text else _STRICT).search(value)
    if found is None:
        return None
    code = ord(found.group())
    kind = "an unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"must not contain {kind} (U+{code:04X} at position {found.start()})"


def escape_text(value: str) -> str:
    """``value`` with every control character and lone surrogate written as ``\\uXXXX``: safe to
    put in a response or a log line."""
    return _STRICT.sub(lambda found: f"\\u{ord(found.group()):04x}", value)


def check_text(value: str, *, field: str, free_text: bool = False) -> str:
    """``value`` if clean, else :class:`TextError` naming ``field``."""
    problem = text_problem(value, free_text=free_text)
    if problem is not None:
        raise TextError(f"{field}: {problem}")
    return value


def check_texts(value: object, *, field: str, free_text: bool = False) -> None:
    """Check every string in ``value``: strings, list and tuple items, mapping keys and values.

    A mapping value under a key in :data:`FREE_TEXT_FIELDS` is free text; keys never are.
    """
    if isinstance(value, str):
        check_text(value, field=field, free_text=free_text)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{field}.{key}" if isinstance(key, str) and text_problem(key) is None else field
            if isinstance(key, str):
                check_text(key, field=f"{field} (a key)")
            check_texts(item, field=name, free_text=isinstance(key, str) and key in FREE_TEXT_FIELDS)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            check_texts(item, field=f"{field}[{index}]", free_text=free_text)


def check_printable_id(value: str, *, field: str, max_length: int = MAX_CLIENT_ORDER_ID) -> str:
    """An identifier a client chose (a client order id): 1 to ``max_length`` printable characters."""
    check_text(value, field=field)
    if not 0 < len(value) <= max_length:
        raise TextError(f"{field}: must have 1 to {max_length} characters")
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise TextError(f"{field}: must hold printable characters only (not U+{ord(bad):04X})")
    return value


# The same rules as JSON Schema patterns (ECMA-262), for the OpenAPI document: a string without
# control characters (free text: tab, line feed and carriage return allowed). A lone surrogate
# cannot be written in a pattern; the API refuses it all the same.
TEXT_PATTERN: Final = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
FREE_TEXT_PATTERN: Final = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _with_patterns(schema: Any, free_text: bool) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
            schema["pattern"] = FREE_TEXT_PATTERN if free_text else TEXT_PATTERN
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, ()):
                _with_patterns(option, free_text)
        for key in ("items", "additionalProperties"):
            _with_patterns(schema.get(key), free_text)


def _text_schema(schema: dict[str, Any], model: type[Any]) -> None:
    """Publish the text rules in the model's JSON schema: every plain string property gets a pattern."""
    fields = getattr(model, "model_fields", {})
    names = {(info.alias or name): name for name, info in fields.items()}
    for prop, sub in schema.get("properties", {}).items():
        _with_patterns(sub, names.get(prop, prop) in FREE_TEXT_FIELDS)


class CheckedText(BaseModel):
    """Base of every request model: each field's raw input is checked by :func:`check_texts`
    before it is validated (the field's name decides whether it is free text)."""

    model_config = ConfigDict(json_schema_extra=_text_schema)

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        # FastAPI validates bodies with from_attributes, which would read a bare JSON number (a
        # Decimal) as an object without attributes: a model of optional fields would accept it.
        if not isinstance(data, Mapping | BaseModel):
            raise PydanticCustomError("model_type", "Input should be a JSON object")
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _checked_text(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "value"
        try:
            check_texts(value, field=name, free_text=name in FREE_TEXT_FIELDS)
        except TextError as exc:
            # The location already names the field; the message keeps the nested part, if any.
            raise PydanticCustomError("invalid_text", str(exc).removeprefix(f"{name}: ")) from None
        return value
