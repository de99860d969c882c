"""A ticket request, from a GET query string or a POST body, checked as htsget 1.3 says.

``format``, ``class``, ``referenceName``/``start``/``end`` (GET) or ``regions`` (POST), and
``fields``/``tags``/``notags`` are read and validated; the server serves files unaltered, so
it returns every field and tag (service-info says so) but still refuses a malformed list.
Each rule below cites the spec's section; every refusal is an :class:`HtsgetError`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from .errors import HtsgetError, invalid_input

# htsget 1.3 "Query parameters": the formats of each endpoint, the default first.
FORMATS = {"reads": ("BAM", "CRAM"), "variants": ("VCF", "BCF")}
GET_PARAMETERS = ("format", "class", "referenceName", "start", "end", "fields", "tags", "notags")
POST_KEYS = ("format", "class", "fields", "tags", "notags", "regions")
REGION_KEYS = ("referenceName", "start", "end")
# "Field filtering": the BAM fields a client may name.
FIELDS = ("QNAME", "FLAG", "RNAME", "POS", "MAPQ", "CIGAR", "RNEXT", "PNEXT", "TLEN", "SEQ", "QUAL")
UNPLACED = "*"
# start/end are 32-bit unsigned integers ("Query parameters").
MAX_COORDINATE = (1 << 32) - 1
# Bounds on one request: "servers will have a limit on the size of POST request" (POST request).
MAX_POST_BYTES = 1 << 20
MAX_REGIONS = 10_000
MAX_PARAMETER_LENGTH = 4096
_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9]$")
_DECIMAL = re.compile(r"^[0-9]{1,10}$")


@dataclass(frozen=True)
class Region:
    """``referenceName`` and an optional ``[start, end)``; name ``*``: the unplaced unmapped reads."""

    name: str
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True)
class TicketRequest:
    kind: str                                  # "reads" or "variants"
    id: str
    format: Optional[str]                      # None: the endpoint's default, or what the file is
    header_only: bool = False
    regions: Optional[Tuple[Region, ...]] = None  # None: the whole file
    fields: Optional[Tuple[str, ...]] = None
    tags: Optional[Tuple[str, ...]] = None
    notags: Optional[Tuple[str, ...]] = None


def parse_get(kind: str, id_: str, query_string: str) -> TicketRequest:
    values = _query_values(query_string)
    header_only = _known_names(values, GET_PARAMETERS, "parameter")
    regions = None
    if "referenceName" in values:
        regions = (_get_region(kind, values),)
    elif "start" in values or "end" in values:
        raise invalid_input("start and end need a referenceName")  # "Query parameters": start, end
    tags, notags = _tag_list(values.get("tags"), "tags"), _tag_list(values.get("notags"), "notags")
    fields = _field_list(values["fields"].split(",")) if "fields" in values else None
    return TicketRequest(kind, id_, _format(kind, values.get("format")), header_only, regions, fields,
                         *_checked_tags(tags, notags))


def parse_post(kind: str, id_: str, query_string: str, body: bytes) -> TicketRequest:
    if query_string:
        raise invalid_input("a POST takes its parameters in the JSON body, not the URL")  # "POST: URL parameters"
    if len(body) > MAX_POST_BYTES:
        raise HtsgetError("PayloadTooLarge", f"the body is {len(body)} bytes; at most {MAX_POST_BYTES} are read")
    try:
        content = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid_input(f"the body is not JSON: {error}") from None
    if not isinstance(content, dict):
        raise invalid_input("the body must be a JSON object")
    header_only = _known_names(content, POST_KEYS, "key")
    regions = None
    if "regions" in content:
        regions = _post_regions(kind, content["regions"])
    fields = _field_list(_strings(content["fields"], "fields")) if "fields" in content else None
    tags = _tag_list(_strings(content["tags"], "tags"), "tags") if "tags" in content else None
    notags = _tag_list(_strings(content["notags"], "notags"), "notags") if "notags" in content else None
    return TicketRequest(kind, id_, _format(kind, content.get("format")), header_only, regions, fields,
                         *_checked_tags(tags, notags))


def _known_names(given: dict, allowed, what: str) -> bool:
    """Refuses names outside ``allowed``; True when the request is for the header only."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise invalid_input(f"unknown {what}(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return _header_class(given.get("class"), [name for name in given if name not in ("class", "format")])


def _query_values(query_string: str) -> Dict[str, str]:
    try:
        parsed = parse_qs(query_string, keep_blank_values=True, strict_parsing=False, max_num_fields=32)
    except ValueError as error:
        raise invalid_input(f"bad query string: {error}") from None
    values = {}
    for name, given in parsed.items():
        if len(given) != 1:
            raise invalid_input(f"parameter {name} given {len(given)} times")
        if len(given[0]) > MAX_PARAMETER_LENGTH:
            raise invalid_input(f"parameter {name} is longer than {MAX_PARAMETER_LENGTH} characters")
        values[name] = given[0]
    return values


def _format(kind: str, given) -> Optional[str]:
    if given is None:
        return None
    if not isinstance(given, str) or given.upper() not in FORMATS[kind]:
        raise HtsgetError("UnsupportedFormat",
                          f"format {given!r} is not one of {kind}' formats: {', '.join(FORMATS[kind])}")
    return given.upper()


def _header_class(given, others: List[str]) -> bool:
    """``class``: absent, or ``header`` with nothing but ``format`` beside it ("Query parameters": class)."""
    if given is None:
        return False
    if given != "header":
        raise invalid_input(f"class must be 'header' when given, not {given!r}")
    if others:
        raise invalid_input(f"class=header takes only format beside it, not {', '.join(sorted(others))}")
    return True


def _get_region(kind: str, values: Dict[str, str]) -> Region:
    name = values["referenceName"]
    _check_name(kind, name)
    start = _coordinate(_decimal(values["start"]), "start") if "start" in values else None
    end = _coordinate(_decimal(values["end"]), "end") if "end" in values else None
    if name == UNPLACED and (start is not None or end is not None):
        raise invalid_input("start and end cannot go with referenceName=*")
    if start is not None and end is not None and start > end:
        raise HtsgetError("InvalidRange", f"start {start} is greater than end {end}")
    return Region(name, start, end)


def _post_regions(kind: str, regions) -> Tuple[Region, ...]:
    if not isinstance(regions, list) or not regions:
        raise invalid_input("regions must be a non-empty array of objects")
    if len(regions) > MAX_REGIONS:
        raise HtsgetError("PayloadTooLarge", f"{len(regions)} regions; at most {MAX_REGIONS} per request")
    parsed = []
    for i, region in enumerate(regions):
        if not isinstance(region, dict) or not isinstance(region.get("referenceName"), str):
            raise invalid_input(f"regions[{i}] must be an object with a referenceName string")
        unknown = sorted(set(region) - set(REGION_KEYS))
        if unknown:
            raise invalid_input(f"regions[{i}] has unknown key(s) {', '.join(unknown)}")
        name = region["referenceName"]
        _check_name(kind, name)
        start = _coordinate(region["start"], f"regions[{i}].start") if "start" in region else None
        end = _coordinate(region["end"], f"regions[{i}].end") if "end" in region else None
        if name == UNPLACED and (start is not None or end is not None):
            raise invalid_input(f"regions[{i}]: start and end cannot go with referenceName=*")
        if start is not None and end is not None and start >= end:  # "POST: Request body": regions
            raise HtsgetError("InvalidRange", f"regions[{i}]: start {start} is not less than end {end}")
        parsed.append(Region(name, start, end))
    return tuple(parsed)


def _check_name(kind: str, name: str) -> None:
    if not name or len(name) > MAX_PARAMETER_LENGTH or any(ord(c) < 33 for c in name):
        raise invalid_input(f"referenceName {name[:80]!r} is empty or holds blanks or control characters")
    if name == UNPLACED and kind != "reads":  # "*" is defined "for the reads endpoint" only
        raise invalid_input("referenceName=* (unplaced unmapped reads) exists for reads only")


def _decimal(text: str):
    """A query value as an int when it is plain decimal digits; unchanged (and refused) otherwise."""
    return int(text) if _DECIMAL.match(text) else text


def _coordinate(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COORDINATE:
        raise invalid_input(f"{what} must be an unsigned 32-bit integer, got {value!r}")
    return value


def _strings(value, what: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_input(f"{what} must be an array of strings")
    return value


def _field_list(names: List[str]) -> Tuple[str, ...]:
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise invalid_input(f"unknown field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    return tuple(names)


def _tag_list(value, what: str) -> Optional[Tuple[str, ...]]:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    items = [item for item in items if item != ""]  # "tags=": no tags at all
    bad = [item for item in items if not _TAG.match(item)]
    if bad:
        raise invalid_input(f"{what} holds {', '.join(map(repr, bad[:5]))}, not two-character SAM tags")
    return tuple(items)


def _checked_tags(tags, notags):
    if tags is not None and notags is not None and set(tags) & set(notags):
        raise invalid_input(f"tags and notags both name {', '.join(sorted(set(tags) & set(notags)))}")
    return tags, notags
