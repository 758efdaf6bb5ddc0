"""Generated redaction cases: a sensitive value of every detector's kind, in many disguises.

Used by ``benchmarks/redaction_fuzz.py``. A :class:`Case` is one carrier string holding one
secret, built by a *disguise* (plain sentence, unicode or mixed-script neighbours with no spaces,
inside a longer token, URL-encoded, nested in JSON tool arguments, split across stream chunks).
:func:`leaked` says whether any exported string still contains the secret in any of the forms
the disguise wrote it in.

Every generator is seeded, so a failing case is reproduced by its seed and index.
"""

# ruff: noqa: RUF001 - text in other scripts on purpose
from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from opentelemetry_instrumentation_llm.processors.redaction import iban_valid, luhn_valid

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + _pick(rng, string.digits, length - len(prefix) - 1)
    return next(body + c for c in string.digits if luhn_valid(body + c))


def card(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 2:  # Amex, 4-6-5
        digits = _luhn(rng, rng.choice(["34", "37"]), 15)
        sep = rng.choice(["", " ", "-"])
        return sep.join((digits[:4], digits[4:10], digits[10:]))
    digits = _luhn(rng, rng.choice(["4", "51", "55", "6011"]), 16)
    sep = rng.choice(["", " ", "-"])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def iban(rng: random.Random) -> str:
    country, length = rng.choice([("DE", 22), ("FR", 27), ("GB", 22), ("NL", 18), ("ES", 24), ("IT", 27)])
    while True:
        bban = _pick(rng, string.digits + string.ascii_uppercase[:6], length - 4)
        for check in range(2, 99):
            candidate = f"{country}{check:02d}{bban}"
            if iban_valid(candidate):
                break
        else:
            continue
        if rng.random() < 0.5:
            return " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
        return candidate


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def email(rng: random.Random) -> str:
    local = rng.choice(string.ascii_lowercase) + _pick(
        rng, string.ascii_lowercase + string.digits + "._+", rng.randint(1, 14)
    )
    local = local.rstrip(".")
    domain = rng.choice(string.ascii_lowercase) + _pick(
        rng, string.ascii_lowercase + string.digits + "-", rng.randint(2, 10)
    )
    domain = domain.rstrip("-")
    return f"{local}@{domain}.{rng.choice(['com', 'org', 'io', 'de', 'co.uk', 'fr'])}"


def phone(rng: random.Random) -> str:
    def d(n: int) -> str:
        return _pick(rng, string.digits, n)

    return rng.choice(
        [
            f"+1 {rng.randint(200, 999)} {rng.randint(200, 999)} {d(4)}",
            f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{d(4)}",
            f"{rng.randint(200, 999)}-{rng.randint(200, 999)}-{d(4)}",
            f"+44 20 {d(4)} {d(4)}",
            f"+33 {rng.randint(1, 9)} {d(2)} {d(2)} {d(2)} {d(2)}",
            f"+49 30 {d(3)} {d(5)}",
        ]
    )


def ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 255)) for _ in range(4))


def ipv6(rng: random.Random) -> str:
    while True:
        text = str(ipaddress.IPv6Address(rng.getrandbits(128) | (1 << 127)))
        if sum(1 for g in text.split(":") if g) >= 3:
            return text


def openai_key(rng: random.Random) -> str:
    return "sk-" + rng.choice(["", "proj-", "svcacct-", "admin-"]) + _pick(rng, URLSAFE, rng.randint(24, 120))


def anthropic_key(rng: random.Random) -> str:
    return "sk-ant-api03-" + _pick(rng, URLSAFE, rng.randint(40, 95))


def aws_access_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + _pick(rng, string.ascii_uppercase + string.digits, 16)


def aws_secret_key(rng: random.Random) -> str:
    name = rng.choice(["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey"])
    return f"{name}{rng.choice(['=', ' = ', ': '])}{_pick(rng, ALNUM + '/+', 40)}"


def github_token(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "github_pat_" + _pick(rng, ALNUM + "_", 82)
    return rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + _pick(rng, ALNUM, 36)


def google_api_key(rng: random.Random) -> str:
    return "AIza" + _pick(rng, URLSAFE, 35)


def jwt(rng: random.Random) -> str:
    def segment(payload: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    header = segment({"alg": "HS256", "typ": "JWT"})
    body = segment({"sub": _pick(rng, ALNUM, 10), "iat": rng.randint(1_600_000_000, 1_900_000_000)})
    return f"{header}.{body}.{_pick(rng, URLSAFE, 43)}"


def bearer_token(rng: random.Random) -> str:
    return rng.choice(["Bearer ", "bearer ", "BEARER "]) + _pick(rng, ALNUM + "._~+/-", rng.randint(20, 64))


def private_key(rng: random.Random) -> str:
    kind = rng.choice(["", "RSA ", "EC ", "OPENSSH "])
    lines = [_pick(rng, ALNUM + "+/", 64) for _ in range(rng.randint(3, 8))]
    return f"-----BEGIN {kind}PRIVATE KEY-----\n" + "\n".join(lines) + f"\n-----END {kind}PRIVATE KEY-----"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "private_key": private_key,
    "anthropic_key": anthropic_key,
    "openai_key": openai_key,
    "aws_access_key": aws_access_key,
    "aws_secret_key": aws_secret_key,
    "github_token": github_token,
    "google_api_key": google_api_key,
    "jwt": jwt,
    "bearer_token": bearer_token,
    "email": email,
    "credit_card": card,
    "iban": iban,
    "us_ssn": ssn,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "phone": phone,
}

# --------------------------------------------------------------------------- disguises

SENTENCES = [
    "Please use {} for the integration and tell me if it works.",
    "My details: {}. Thanks!",
    "Here is the value you asked for -> {} <- keep it safe",
    "{}",
    "Line one\nLine two has {}\n\tand a tab",
]
# Neighbours in other scripts, written with no space around the value (as CJK text is written).
# The characters touching the value are never ASCII letters or digits: a value glued to those
# ("mixedsk-...") has no start a detector can find without flagging ordinary words ("task-...").
SCRIPTS = [
    "密码是{}谢谢",
    "キーは{}です",
    "ключ:{}спасибо",
    "المفتاح{}شكرا",
    "कुंजी{}धन्यवाद",
    "Ελληνικά{}τέλος",
    "🔑{}✅",
    "naïve café{}ñandú",
    "비밀번호{}입니다",
    "mixed混合{}Смесь",
]
# Inside a longer token: the value glued to identifiers, URLs, headers, paths.
TOKENS = [
    "api_key={}&next=1",
    "https://h.example/cb?token={};",
    "X-Api-Key:{}",
    "cfg_{}",
    "path/{}/v1",
    '"{}"',
    "({})",
    "<{}>",
    "'{}'",
    "key={},other=2",
    "[{}]",
    "value:{}|",
]


@dataclass(frozen=True)
class Case:
    index: int
    detector: str
    disguise: str
    secret: str
    carrier: str  # the text placed in the telemetry
    chunks: tuple[str, ...] = ()  # for "stream": the pieces the provider streams
    forms: tuple[str, ...] = ()  # every spelling of the secret that must not appear in any export


def _json_forms(secret: str) -> tuple[str, ...]:
    return (secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1])


def make_case(index: int, rng: random.Random, detector: str | None = None, disguise: str | None = None) -> Case:
    detector = detector or rng.choice(list(GENERATORS))
    secret = GENERATORS[detector](rng)
    disguise = disguise or rng.choice(DISGUISES)
    forms = _json_forms(secret)
    chunks: tuple[str, ...] = ()
    if disguise == "plain":
        carrier = rng.choice(SENTENCES).format(secret)
    elif disguise == "unicode":
        carrier = rng.choice(SCRIPTS).format(secret)
    elif disguise == "token":
        carrier = rng.choice(TOKENS).format(secret)
    elif disguise == "urlencoded":
        encoded = quote(secret, safe="")
        carrier = f"https://h.example/callback?user={encoded}&lang=en"
        forms = (*forms, encoded)
    elif disguise == "json_args":
        arguments = {"query": "lookup", "filters": [{"field": "owner", "value": {"raw": secret}}], "limit": 5}
        carrier = json.dumps(arguments, ensure_ascii=rng.random() < 0.5)
    else:  # "stream": the provider streams the reply in pieces cut inside the value
        carrier = rng.choice(SENTENCES).format(secret)
        start = carrier.index(secret)
        cuts = sorted({start + rng.randint(1, max(1, len(secret) - 1)) for _ in range(rng.randint(1, 3))})
        bounds = [0, *cuts, len(carrier)]
        chunks = tuple(carrier[a:b] for a, b in itertools.pairwise(bounds) if b > a)
    return Case(index, detector, disguise, secret, carrier, chunks, tuple(dict.fromkeys(forms)))


DISGUISES = ("plain", "unicode", "token", "urlencoded", "json_args", "stream")


def leaked(case: Case, exported: str) -> bool:
    """Whether ``exported`` (everything exported for this case) still holds the secret."""
    return any(form in exported for form in case.forms)


# --------------------------------------------------------------------------- ordinary text (false positives)

ORDINARY_TEMPLATES = [
    "The meeting moved to {date} at {time}; room {room} on floor {floor}.",
    "Version {ver} fixes {n} bugs; upgrade with pip install pkg=={ver}.",
    "Order #{order} shipped on {date}, total ${price}.",
    "In {year} the population was {big}, up {pct}% from {year2}.",
    "Call the function with timeout={n} and retries={m}, then check ratio {a}:{b}.",
    "The matrix is [[{n}, {m}], [{a}, {b}]] and its determinant is {det}.",
    "Step {n}: run `python -m build` and copy dist/pkg-{ver}.tar.gz to the server.",
    "Chapter {n}, verse {m}: the quick brown fox jumps over the lazy dog.",
    "Use ISBN {isbn} when citing the second edition ({year}).",
    "The task-scheduler risk-assessment ran for {n} minutes at 12:{mm}:{ss}.",
    "Coordinates {lat}, {lon}; elevation {n} m; heading 0x{hex}.",
    "def add(a, b):\n    return a + b  # {n} tests pass in {m}.{mm}s",
    "SELECT id, name FROM users WHERE created > '{date}' LIMIT {n};",
    "Ticket ABC-{order} was merged in commit {sha}.",
    "Le rendez-vous est le {date} à {time}, salle {room}.",
    "会议定于{date}在{room}号房间举行，共{n}人参加。",
    "Total: {big} tokens, {price} USD, latency p99 {m} ms, uptime 99.{mm}%.",
]


def ordinary_text(rng: random.Random) -> str:
    values = {
        "date": f"20{rng.randint(10, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "time": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        "room": rng.randint(1, 999),
        "floor": rng.randint(1, 40),
        "n": rng.randint(1, 500),
        "m": rng.randint(1, 500),
        "a": rng.randint(1, 99),
        "b": rng.randint(1, 99),
        "ver": f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
        "order": rng.randint(1000, 99_999_999),
        "price": f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}",
        "year": rng.randint(1900, 2030),
        "year2": rng.randint(1900, 2030),
        "big": f"{rng.randint(1, 999):,}",
        "pct": rng.randint(1, 99),
        "det": rng.randint(-999, 999),
        "isbn": f"978-{rng.randint(0, 9)}-{rng.randint(100, 999)}-{rng.randint(10000, 99999)}-{rng.randint(0, 9)}",
        "mm": f"{rng.randint(0, 59):02d}",
        "ss": f"{rng.randint(0, 59):02d}",
        "lat": f"{rng.uniform(-90, 90):.5f}",
        "lon": f"{rng.uniform(-180, 180):.5f}",
        "hex": _pick(rng, "0123456789abcdef", 8),
        "sha": _pick(rng, "0123456789abcdef", 40),
    }
    return rng.choice(ORDINARY_TEMPLATES).format(**values)
