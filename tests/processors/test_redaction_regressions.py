"""Cases the redaction fuzz (benchmarks/redaction_fuzz.py) found leaking or over-matching, kept as tests.

Each leak case is the carrier text the fuzz generated and the secret inside it; the secret must
not survive, in any spelling, and the right detector must claim it.
"""

# ruff: noqa: RUF001 - text in other scripts on purpose
from __future__ import annotations

import json

import pytest

from opentelemetry_instrumentation_llm.processors import Redactor

ALL = Redactor(["all"])

LEAKS = [
    # Glued to letters of other scripts: ``\b`` saw no word boundary there.
    (
        "anthropic_key",
        "비밀번호sk-ant-api03-gjesz1MCKkjHN5-I32FdUnvtt6vab1WP8KcbakqF_znkJmyqMrRsqnY9Cg6C8BMAVLd9vYJsI4Wv입니다",
        "sk-ant-api03-gjesz1MCKkjHN5-I32FdUnvtt6vab1WP8KcbakqF_znkJmyqMrRsqnY9Cg6C8BMAVLd9vYJsI4Wv",
    ),
    ("aws_access_key", "비밀번호ASIAC2EUGF7XOFVIPWPR입니다", "ASIAC2EUGF7XOFVIPWPR"),
    (
        "aws_secret_key",
        "Ελληνικάaws_secret_access_key: lAU9swq2fjTNGUVN0Z84VP0tq9GG28gL+S+q5s8tτέλος",
        "lAU9swq2fjTNGUVN0Z84VP0tq9GG28gL+S+q5s8t",
    ),
    (
        "bearer_token",
        "密码是bearer Nx3.PWJZA1Sj5MNYSdKqoPEF/RrfSvG-ZhCMRR+fa0KamrKnfIg9_gA谢谢",
        "Nx3.PWJZA1Sj5MNYSdKqoPEF/RrfSvG-ZhCMRR+fa0KamrKnfIg9_gA",
    ),
    ("email", "비밀번호g3bs_gx2qdduk@zgh1p.fr입니다", "g3bs_gx2qdduk@zgh1p.fr"),
    (
        "github_token",
        "naïve cafégithub_pat_XnWGI5UDP7ttEibTCBQRLwBTx2nXrnQDK5E0r_RNAsr3Ceh8uC6RR5sH041oG56upjkqñandú",
        "github_pat_XnWGI5UDP7ttEibTCBQRLwBTx2nXrnQDK5E0r_RNAsr3Ceh8uC6RR5sH041oG56upjkq",
    ),
    ("google_api_key", "密码是AIzaWMtRVWnyRb25yvcH7DkiBrFEUcz5emw0q_D谢谢", "AIzaWMtRVWnyRb25yvcH7DkiBrFEUcz5emw0q_D"),
    ("iban", "mixed混合ES858BFBD76670C256084E82Смесь", "ES858BFBD76670C256084E82"),
    ("ipv6", "naïve cafédf6b:dd02:4796:a7cd:8bd1:84b7:4b7e:b4b3ñandú", "df6b:dd02:4796:a7cd:8bd1:84b7:4b7e:b4b3"),
    (
        "jwt",
        "비밀번호eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAicWhFQXpOeEl3SyJ9.I1EVxvvskUyA2knPy9WWwG입니다",
        "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAicWhFQXpOeEl3SyJ9.I1EVxvvskUyA2knPy9WWwG",
    ),
    (
        "openai_key",
        "密码是sk-svcacct-MDfEoAwYZqDA_toX4Tc9_hFKw8iOlHMqhOksq谢谢",
        "sk-svcacct-MDfEoAwYZqDA_toX4Tc9_hFKw8iOlHMqhOksq",
    ),
    ("phone", "mixed混合+49 30 585 75768Смесь", "+49 30 585 75768"),
    # Inside longer tokens: after ``_``, which ``\b`` counts as a word character.
    (
        "anthropic_key",
        "cfg_sk-ant-api03-kMeIMnRaXjfLoaa2tygpS2iHJKnm4Fn8S47b61pLuTfdSbjjp4DW841-IclpI",
        "sk-ant-api03-kMeIMnRaXjfLoaa2tygpS2iHJKnm4Fn8S47b61pLuTfdSbjjp4DW841-IclpI",
    ),
    ("aws_access_key", "cfg_ASIAUIB7GEV4OT3M5AIC", "ASIAUIB7GEV4OT3M5AIC"),
    (
        "aws_secret_key",
        "path/AWS_SECRET_ACCESS_KEY: KxXoCU6fjya3LguX5PlhePGWR1pgaDZDZjHVDNzT/v1",
        "KxXoCU6fjya3LguX5PlhePGWR1pgaDZDZjHVDNzT",
    ),
    ("bearer_token", "cfg_BEARER UdkrZVEmQJb+PoTqIZl-81Y", "UdkrZVEmQJb+PoTqIZl-81Y"),
    ("github_token", "cfg_ghr_guoBq8RRmblcksyDBSug32kTWPy7cgTrGpM5", "ghr_guoBq8RRmblcksyDBSug32kTWPy7cgTrGpM5"),
    ("google_api_key", "cfg_AIzaSuDTMdyqb6zNMdcw9eC_zjJwv6SMkgotXy0", "AIzaSuDTMdyqb6zNMdcw9eC_zjJwv6SMkgotXy0"),
    ("iban", "cfg_NL75C74D1680C5AEF0", "NL75C74D1680C5AEF0"),
    ("ipv6", "value:defe:c3e7:7110:92e6:ab73:24f8:8282:9cd2|", "defe:c3e7:7110:92e6:ab73:24f8:8282:9cd2"),
    ("phone", "cfg_368-988-1421", "368-988-1421"),
    # An address ending a sentence: the full stop after the last octet hid it.
    ("ipv4", "My details: 44.250.78.144. Thanks!", "44.250.78.144"),
    # URL-encoded values.
    ("email", "https://h.example/callback?user=n2urhxc%40jgqbqv.com&lang=en", "n2urhxc%40jgqbqv.com"),
    ("credit_card", "https://h.example/callback?user=6011%208326%202191%204258&lang=en", "6011%208326%202191%204258"),
    (
        "iban",
        "https://h.example/callback?user=NL21%200821%20CDBC%205962%2090&lang=en",
        "NL21%200821%20CDBC%205962%2090",
    ),
    ("phone", "https://h.example/callback?user=%2B44%2020%209175%206141&lang=en", "%2B44%2020%209175%206141"),
    (
        "bearer_token",
        "https://h.example/callback?user=BEARER%208qZnViU~dN5qtjsB9QULutW4ZpsILbbqWm6d&lang=en",
        "8qZnViU~dN5qtjsB9QULutW4ZpsILbbqWm6d",
    ),
    (
        "aws_secret_key",
        "https://h.example/callback?user=AWS_SECRET_ACCESS_KEY%3DsWm2BsaomkQpV1Yj05M34Yr69XnQJsHfmveaPRfu&x=1",
        "sWm2BsaomkQpV1Yj05M34Yr69XnQJsHfmveaPRfu",
    ),
    (
        "ipv6",
        "https://h.example/callback?user=aa08%3A7c63%3A1895%3A5b0b%3A81e9%3Aacce%3A54ce%3A7ec3&lang=en",
        "aa08%3A7c63%3A1895%3A5b0b%3A81e9%3Aacce%3A54ce%3A7ec3",
    ),
    (
        "private_key",
        "u=-----BEGIN%20EC%20PRIVATE%20KEY-----%0A94CIP94hIw46LxPY0Y9CNcis%2FoUHNMrnr6e58PVq%0A"
        "-----END%20EC%20PRIVATE%20KEY-----&lang=en",
        "94CIP94hIw46LxPY0Y9CNcis%2FoUHNMrnr6e58PVq",
    ),
]


@pytest.mark.parametrize(("detector", "text", "secret"), LEAKS, ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(LEAKS)])
def test_fuzz_found_leak_is_redacted(detector: str, text: str, secret: str) -> None:
    assert secret in text  # the case is what it says
    redacted = ALL.redact_text(text)
    assert secret not in redacted
    assert f"[REDACTED:{detector}]" in redacted


def test_text_around_a_redacted_url_value_is_kept() -> None:
    redacted = ALL.redact_text("see https://h.example/callback?user=jane%40example.com&lang=en now")
    assert redacted == "see https://h.example/callback?user=[REDACTED:email]&lang=en now"


def test_urls_without_secrets_are_returned_untouched() -> None:
    text = "https://h.example/search?q=caf%C3%A9%20au%20lait&page=2"
    assert ALL.redact_text(text) is text


def test_decoded_url_values_cannot_break_json_text() -> None:
    content = json.dumps([{"url": "https://h.example/?a=%22quoted%22%0Aand%20jane%40example.com"}])
    redacted = ALL.redact_text(content)
    assert "jane" not in redacted
    assert json.loads(redacted)[0]["url"].startswith("https://h.example/?a=%22quoted%22%0Aand%20[REDACTED:email]")


@pytest.mark.parametrize(
    "text",
    [
        # A commit hash whose digit run happens to be Luhn-valid is not a card number.
        "Ticket ABC-92871684 was merged in commit 838582f46552e6862e20f6411514215014377309.",
        # Words that contain ``sk-`` are not keys.
        "The task-scheduler risk-assessment-framework-version2 ran for 12 minutes.",
        "Release 10.0.0 on 2026-12-07. Then 1.2.3 at 12:30:45.",
    ],
)
def test_ordinary_text_the_fuzz_checks_is_left_alone(text: str) -> None:
    assert ALL.redact_text(text) is text
