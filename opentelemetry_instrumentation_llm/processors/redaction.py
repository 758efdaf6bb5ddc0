"""Redaction of PII and secrets from everything that leaves the process.

A :class:`Redactor` holds the enabled detectors and a replacement mode. It is applied to span
attributes and events, span status descriptions and log records by the processors in
:mod:`.processors`; this module knows nothing about OpenTelemetry.

Speed: each detector declares a cheap trigger (a substring, or "contains a digit") and an anchor
(``@`` for e-mail, digit runs for numbers, ``sk-`` for OpenAI keys, ...). Its full regular
expression runs only in small windows around the anchors, never across a whole 32 KB prompt, and
all detectors' matches are collected against the original text and spliced in one pass. Matches
that a detector's validator rejects (a Luhn-invalid card number, an impossible SSN) are left alone.

JSON safety: replacement tokens contain no quote, backslash or control character, and no detector
matches a quote or a backslash except the private-key one, which matches whole ``-----BEGIN ...
-----END ... KEY-----`` blocks. So content attributes that are JSON text stay valid JSON after
redaction, without being parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

_logger = logging.getLogger(__name__)

_DIGIT = re.compile(r"[0-9]")
_DIGIT_RUNS = re.compile(r"[0-9]+")
_A = re.ASCII
# Where a secret may start: not glued to an ASCII letter or digit. Unlike ``\b`` this also matches
# after ``_`` (``cfg_sk-...``) and after letters of other scripts (``密码是sk-...``), which ``\b``
# treats as word characters.
_NOT_AFTER_ALNUM = r"(?<![A-Za-z0-9])"


@dataclass(frozen=True)
class Detector:
    """A kind of sensitive value: where it can be, how to find it, how to confirm a candidate.

    ``anchor`` finds the places a match must overlap (``None``: search the whole text) and
    ``window`` is how far around an anchor a match may extend; it must cover the longest value.
    """

    name: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...] = ()  # any of these substrings must occur (case-sensitive)
    needs_digit: bool = False
    validate: Callable[[str], bool] | None = None
    group: str = "pii"
    anchor: re.Pattern[str] | None = None
    window: int = 0

    def could_match(self, text: str) -> bool:
        """Whether ``text`` can hold a match at all (used directly only for one-off checks)."""
        if self.triggers and not any(t in text for t in self.triggers):
            return False
        return not (self.needs_digit and _DIGIT.search(text) is None)

    def could_match_cached(self, text: str, seen: dict[str, bool]) -> bool:
        """:meth:`could_match`, with each substring check done once per text across detectors."""
        if self.triggers:
            for trigger in self.triggers:
                hit = seen.get(trigger)
                if hit is None:
                    hit = seen[trigger] = trigger in text
                if hit:
                    break
            else:
                return False
        if self.needs_digit:
            hit = seen.get("\x00digit")
            if hit is None:
                hit = seen["\x00digit"] = _DIGIT.search(text) is not None
            return hit
        return True


# --------------------------------------------------------------------------- validators


def luhn_valid(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def ssn_valid(candidate: str) -> bool:
    area, group, serial = candidate.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def ipv6_valid(candidate: str) -> bool:
    # At least three non-empty groups: "::", "1::2" (a slice in code) or a clock time are not addresses.
    if sum(1 for group in candidate.split(":") if group) < 3:
        return False
    try:
        return isinstance(ipaddress.ip_address(candidate), ipaddress.IPv6Address)
    except ValueError:
        return False


def phone_valid(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    return 8 <= digits <= 15


# --------------------------------------------------------------------------- built-in detectors

BUILTIN_DETECTORS: tuple[Detector, ...] = (
    # Secrets first: on overlapping matches, the earlier detector in this list wins.
    Detector(
        "private_key",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----", re.S),
        triggers=("PRIVATE KEY-----",),
        group="secrets",
    ),
    Detector(
        "anthropic_key",
        re.compile(_NOT_AFTER_ALNUM + r"sk-ant-[A-Za-z0-9_-]{20,}"),
        triggers=("sk-ant-",),
        group="secrets",
        anchor=re.compile("sk-ant-"),
        window=512,
    ),
    Detector(
        "openai_key",
        re.compile(_NOT_AFTER_ALNUM + r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        triggers=("sk-",),
        group="secrets",
        anchor=re.compile("sk-"),
        window=512,
    ),
    Detector(
        "aws_access_key",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        triggers=("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
        group="secrets",
        anchor=re.compile("AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA"),
        window=24,
    ),
    Detector(
        "aws_secret_key",
        re.compile(r"(?i)(?<![a-z0-9])aws_?secret_?access_?key\s*[=:]\s*[A-Za-z0-9/+]{40}"),
        triggers=("ecret", "ECRET"),
        group="secrets",
        anchor=re.compile("(?i)secret"),
        window=96,
    ),
    Detector(
        "github_token",
        re.compile(
            _NOT_AFTER_ALNUM + r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
        ),
        triggers=("gh", "github_pat_"),
        group="secrets",
        anchor=re.compile("gh[pousr]_|github_pat_"),
        window=300,
    ),
    Detector(
        "google_api_key",
        re.compile(_NOT_AFTER_ALNUM + r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        triggers=("AIza",),
        group="secrets",
        anchor=re.compile("AIza"),
        window=48,
    ),
    Detector(
        "jwt",
        re.compile(_NOT_AFTER_ALNUM + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
        triggers=("eyJ",),
        group="secrets",
        anchor=re.compile("eyJ"),
        window=8192,
    ),
    Detector(
        "bearer_token",
        re.compile(r"(?i)(?<![a-z0-9])bearer\s+[A-Za-z0-9._~+/-]{8,}=*"),
        triggers=("earer", "EARER"),
        group="secrets",
        anchor=re.compile("(?i)bearer"),
        window=4096,
    ),
    # PII.
    Detector(
        "email",
        re.compile(
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9])"
        ),
        triggers=("@",),
        anchor=re.compile("@"),
        window=256,
    ),
    # Card numbers as they are written: contiguous, 4-4-4-4(-3) or Amex 4-6-5, with one separator;
    # not a digit run inside a longer hex string (a commit hash or digest).
    Detector(
        "credit_card",
        re.compile(
            r"[0-9](?<![0-9-][0-9])(?<![0-9A-Fa-f]{8}[0-9])"
            r"(?:[0-9]{12,18}|[0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{3})?"
            r"|[0-9]{3}([ -])[0-9]{6}\2[0-9]{5})(?![0-9-])(?![0-9A-Fa-f]{8})",
            _A,
        ),
        needs_digit=True,
        validate=luhn_valid,
        anchor=_DIGIT_RUNS,
        window=24,
    ),
    Detector(
        "iban",
        re.compile(r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])", _A),
        needs_digit=True,
        validate=iban_valid,
        anchor=_DIGIT_RUNS,
        window=44,
    ),
    Detector(
        "us_ssn",
        re.compile(r"[0-9](?<![0-9-][0-9])[0-9]{2}-[0-9]{2}-[0-9]{4}(?![0-9-])", _A),
        needs_digit=True,
        validate=ssn_valid,
        anchor=_DIGIT_RUNS,
        window=12,
    ),
    Detector(
        "ipv4",
        re.compile(r"[0-9](?<![0-9.][0-9])[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![0-9]|\.[0-9])", _A),
        needs_digit=True,
        validate=lambda v: all(int(o) <= 255 and (o == "0" or not o.startswith("0")) for o in v.split(".")),
        anchor=_DIGIT_RUNS,
        window=16,
    ),
    Detector(
        "ipv6",
        re.compile(r"(?<![0-9A-Fa-f])(?<!::)(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f]*:)"),
        triggers=(":",),
        validate=ipv6_valid,
        anchor=re.compile(r":[0-9A-Fa-f]{0,4}:"),
        window=40,
    ),
    # Phone numbers: international (+CC ...), or North American (555) 123-4567 / 555-123-4567 shapes.
    # Deliberately narrow: dates, versions and plain numbers in ordinary text must not match.
    Detector(
        "phone",
        re.compile(
            r"(?:(?<![0-9+])\+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){2,4}"
            r"|(?<![A-Za-z0-9+])\([0-9]{3}\)[ .-]?[0-9]{3}[ .-][0-9]{4}"
            r"|(?<![A-Za-z0-9+.-])[0-9]{3}[.-][0-9]{3}[.-][0-9]{4})(?![A-Za-z0-9])",
            _A,
        ),
        needs_digit=True,
        validate=phone_valid,
        anchor=_DIGIT_RUNS,
        window=24,
    ),
)

DETECTOR_NAMES = tuple(d.name for d in BUILTIN_DETECTORS)
GROUPS = {
    "all": DETECTOR_NAMES,
    "secrets": tuple(d.name for d in BUILTIN_DETECTORS if d.group == "secrets"),
    "pii": tuple(d.name for d in BUILTIN_DETECTORS if d.group == "pii"),
}


# A run of URL characters holding at least one percent escape; decoded before searching.
_URL_CHAR = r"(?:[A-Za-z0-9._~!$'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})"
_PERCENT_RUN = re.compile(f"{_URL_CHAR}*%[0-9A-Fa-f]{{2}}{_URL_CHAR}*")
_URL_SAFE = "._~!$'()*+,;=:@/?-[]"  # kept as is when a redacted run is encoded again (tokens use [ : ])

_SHORTEST = 6  # no detectable value is shorter ("a@b.io"); shorter strings are skipped outright


def _merge_windows(spans: list[tuple[int, int]], window: int, length: int) -> list[tuple[int, int]]:
    """Regions of ``window`` characters around each anchor span, merged where they touch."""
    regions: list[tuple[int, int]] = []
    for start, end in spans:
        lo, hi = max(0, start - window), min(length, end + window)
        if regions and lo <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], hi))
        else:
            regions.append((lo, hi))
    return regions


def resolve_detector_names(names: Iterable[str]) -> tuple[str, ...]:
    """Detector names from a user's list of names and groups (``all``, ``pii``, ``secrets``)."""
    chosen: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        expanded = GROUPS.get(name, (name,))
        for detector_name in expanded:
            if detector_name not in DETECTOR_NAMES:
                raise ValueError(name)
            if detector_name not in chosen:
                chosen.append(detector_name)
    return tuple(chosen)


# --------------------------------------------------------------------------- the redactor

CustomRedaction = Callable[[str], str]


class Redactor:
    """Finds and replaces sensitive values in strings and in structures of any depth.

    ``mode`` is ``"mask"`` (``[REDACTED:email]``) or ``"hash"`` (``[REDACTED:email:1a2b3c4d5e6f]``,
    an HMAC-SHA256 of the value under ``hash_key``, so equal values stay correlatable without being
    readable). Without a key, hash mode uses a random key per process (correlatable within the
    process only). ``patterns`` adds named regular expressions; ``custom`` adds callables that
    take a string and return it redacted, run after the detectors.
    """

    def __init__(
        self,
        detectors: Iterable[str] = DETECTOR_NAMES,
        *,
        mode: str = "mask",
        hash_key: bytes | str | None = None,
        patterns: Mapping[str, str | re.Pattern[str]] | None = None,
        custom: Iterable[CustomRedaction] = (),
    ) -> None:
        if mode not in ("mask", "hash"):
            raise ValueError(f"mode must be 'mask' or 'hash', not {mode!r}")
        wanted = set(resolve_detector_names(detectors))
        chosen = [d for d in BUILTIN_DETECTORS if d.name in wanted]
        for name, pattern in (patterns or {}).items():
            compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            chosen.append(Detector(str(name), compiled, group="custom"))
        self.detectors: tuple[Detector, ...] = tuple(chosen)
        self.custom = tuple(custom)
        self.mode = mode
        if isinstance(hash_key, str):
            hash_key = hash_key.encode()
        self._key = hash_key or os.urandom(32)

    @property
    def enabled(self) -> bool:
        return bool(self.detectors or self.custom)

    def _token(self, kind: str, value: str) -> str:
        if self.mode == "hash":
            digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
            return f"[REDACTED:{kind}:{digest}]"
        return f"[REDACTED:{kind}]"

    def _find(
        self, detector: Detector, text: str, anchors: dict[int, list[tuple[int, int]]]
    ) -> list[tuple[int, int, str]]:
        """(start, end, value) of every confirmed match of ``detector`` in ``text``."""
        found: list[tuple[int, int, str]] = []
        validate = detector.validate
        if detector.anchor is None:
            regions = [(0, len(text))]
        else:
            key = id(detector.anchor)
            spans = anchors.get(key)
            if spans is None:
                spans = anchors[key] = [m.span() for m in detector.anchor.finditer(text)]
            regions = _merge_windows(spans, detector.window, len(text))
        last_end = -1
        for start, end in regions:
            for match in detector.pattern.finditer(text, start, end):
                if match.start() < last_end:
                    continue
                value = match.group(0)
                if validate is None or validate(value):
                    found.append((match.start(), match.end(), value))
                    last_end = match.end()
        return found

    def redact_text(self, text: str) -> str:
        """``text`` with every detected value replaced (the same object back when nothing matched)."""
        result = self._detect(text)
        if "%" in result:
            result = self._detect_percent_encoded(result)
        for custom in self.custom:
            result = custom(result)
        return result if result != text else text

    def _detect(self, text: str) -> str:
        """One pass of every detector over ``text``, all matches spliced at once."""
        matches: list[tuple[int, int, int, str, str]] = []
        anchors: dict[int, list[tuple[int, int]]] = {}
        seen: dict[str, bool] = {}
        for priority, detector in enumerate(self.detectors if len(text) >= _SHORTEST else ()):
            if detector.could_match_cached(text, seen):
                for start, end, value in self._find(detector, text, anchors):
                    matches.append((start, priority, end, detector.name, value))
        if not matches:
            return text
        matches.sort()
        pieces: list[str] = []
        cursor = 0
        for start, _, end, name, value in matches:
            if start < cursor:  # overlaps a match already taken (an earlier or stronger one)
                continue
            pieces.append(text[cursor:start])
            pieces.append(self._token(name, value))
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _detect_percent_encoded(self, text: str) -> str:
        """Values hidden by URL encoding (``jane%40example.com``, ``BEGIN%20RSA%20PRIVATE%20KEY``).

        Each URL-ish run holding a percent escape is decoded and searched; a run where something
        is found is written back redacted and encoded again (so quotes, backslashes and control
        characters stay escaped, and JSON text stays valid). Runs where nothing is found are left
        exactly as they were.
        """
        pieces: list[str] = []
        cursor = 0
        for match in _PERCENT_RUN.finditer(text):
            decoded = unquote(match.group(0))
            redacted = self._detect(decoded)
            if redacted is decoded:
                continue
            pieces.append(text[cursor : match.start()])
            pieces.append(quote(redacted, safe=_URL_SAFE))
            cursor = match.end()
        if not pieces:
            return text
        pieces.append(text[cursor:])
        return "".join(pieces)

    def redact_value(self, value: Any) -> Any:
        """Strings, sequences and mappings at any depth; other values are returned unchanged."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, (list, tuple)):
            redacted = [self.redact_value(v) for v in value]
            if all(a is b for a, b in zip(redacted, value, strict=True)):
                return value
            return type(value)(redacted) if isinstance(value, tuple) else redacted
        if isinstance(value, Mapping):
            items = {k: self.redact_value(v) for k, v in value.items()}
            if all(items[k] is v for k, v in value.items()):
                return value
            return items
        return value

    def redact_attributes(self, attributes: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """A redacted copy of an attribute mapping, or the same mapping when nothing changed."""
        if not attributes:
            return attributes
        changed: dict[str, Any] | None = None
        for key, value in attributes.items():
            redacted = self.redact_value(value)
            if redacted is not value:
                if changed is None:
                    changed = dict(attributes)
                changed[key] = redacted
        return attributes if changed is None else changed
