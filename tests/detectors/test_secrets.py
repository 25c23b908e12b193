"""Secrets and PII: detection, redaction with stable placeholders, JSON walking."""

# ruff: noqa: E501  -- realistic sample texts are kept on one line each

from __future__ import annotations

import pytest

from mcp_bastion.detectors import PII_KINDS, redact, redact_value, scan_secrets

# Built at run time so that no token-shaped literal sits in the repository.
AWS = "AKIA" + "IOSFODNN7" + "Q2XZ4WB"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
GITLAB = "glpat-" + "xY7zQ2wE9rT4uI8oP3aS"
SLACK = "xoxb-" + "123456789012-" + "AbCdEfGhIjKlMnOpQrStUvWx"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
ANTHROPIC = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed" + "-AbC"
OPENAI = "sk-proj-" + "T3BlbkFJ9x8Y7w6V5u4T3s2R1q0PzOyNx"
GOOGLE = "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9"
    + "."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + "."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4"
    + "Ab" * 30
    + "\nQWxhZGRpbjpvcGVuIHNlc2FtZQ==\n-----END RSA PRIVATE KEY-----"
)

PROVIDER_TOKENS = {
    "aws_access_key": AWS,
    "github_token": GITHUB,
    "gitlab_token": GITLAB,
    "slack_token": SLACK,
    "stripe_key": STRIPE,
    "anthropic_key": ANTHROPIC,
    "openai_key": OPENAI,
    "google_api_key": GOOGLE,
    "jwt": JWT,
}


@pytest.mark.parametrize("kind", sorted(PROVIDER_TOKENS))
def test_provider_tokens_are_found_and_redacted(kind: str) -> None:
    secret = PROVIDER_TOKENS[kind]
    text = f"config loaded: token={secret} (from env)"
    found = scan_secrets(text)
    assert any(f.rule_id == "BST-SE-001" for f in found), found
    # Evidence never carries the secret.
    assert all(secret not in f.evidence and secret[6:] not in f.evidence for f in found)
    redacted, findings = redact(text)
    assert f"[REDACTED:{kind}:1]" in redacted
    assert secret not in redacted and secret[4:] not in redacted
    assert findings


def test_private_key_block_is_one_redaction() -> None:
    redacted, findings = redact(f"key:\n{PEM}\nend")
    assert redacted == "key:\n[REDACTED:private_key:1]\nend"
    assert [f.rule_id for f in findings] == ["BST-SE-002"]


def test_url_credentials_keep_the_url_readable() -> None:
    redacted, _ = redact("DATABASE_URL=postgres://app:Sup3rS3cret9@db.internal:5432/prod")
    assert redacted == "DATABASE_URL=postgres://app:[REDACTED:url_password:1]@db.internal:5432/prod"
    assert redact("postgres://app:${DB_PASSWORD}@db/prod")[0] == "postgres://app:${DB_PASSWORD}@db/prod"


def test_generic_assignments_need_entropy() -> None:
    assert scan_secrets('api_key = "Zq8xW2pL9mN4vB7cK1"')
    assert scan_secrets('{"client_secret": "d8F3kL0pQ2zX9wV4"}')
    for benign in (
        "password = get_password(user)",
        "token_count: 12345678",
        "api_key = ${API_KEY}",
        "secret: <your-secret-here>",
        'password: "required"',
        "The secret to good bread is patience.",
    ):
        assert not scan_secrets(benign), benign


def test_environment_dump() -> None:
    dump = "\n".join(
        [
            "HOME=/root",
            "PATH=/usr/bin",
            "LANG=C.UTF-8",
            "SHELL=/bin/bash",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI9K7MDENGbPxRfiCY",
        ]
    )
    found = scan_secrets(dump)
    assert {"BST-SE-005", "BST-SE-004"} <= {f.rule_id for f in found}
    assert "wJalrXUtnFEMI9K7MDENGbPxRfiCY" not in redact(dump)[0]
    assert not [f for f in scan_secrets("A=1\nB=2\nC=3\nD=4\nE=5\nF=6") if f.rule_id == "BST-SE-005"]


def test_same_secret_same_placeholder_and_distinct_numbers() -> None:
    other = "AKIA" + "ZZZZ2222YYYY3333"
    text = f"{AWS} then {other} then {AWS} again"
    redacted, findings = redact(text)
    assert (
        redacted
        == "[REDACTED:aws_access_key:1] then [REDACTED:aws_access_key:2] then [REDACTED:aws_access_key:1] again"
    )
    assert len(findings) == 2


def test_redaction_is_idempotent_and_leaves_clean_text_alone() -> None:
    text = f"a {GITHUB} b postgres://u:Pw9xYz12@h/db c"
    once, _ = redact(text)
    twice, findings = redact(once)
    assert once == twice and findings == []
    assert redact("nothing to see here") == ("nothing to see here", [])


def test_pii_is_opt_in_and_validated() -> None:
    text = "card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00, mail jane.doe@example.com, ip 10.1.2.3, tel +49 30 1234567"
    assert scan_secrets(text) == []
    found = {f.rule_id for f in scan_secrets(text, pii=PII_KINDS)}
    assert found == {"BST-PII-001", "BST-PII-002", "BST-PII-003", "BST-PII-004", "BST-PII-005"}
    redacted, _ = redact(text, pii=frozenset({"email", "credit_card"}))
    assert "jane.doe@example.com" not in redacted and "4111 1111 1111 1111" not in redacted
    assert "DE89 3704" in redacted  # not requested
    # Checksums: a wrong Luhn digit or IBAN check is not PII of that kind.
    assert not scan_secrets("4111 1111 1111 1112", pii=frozenset({"credit_card"}))
    assert not scan_secrets("DE88 3704 0044 0532 0130 00", pii=frozenset({"iban"}))
    with pytest.raises(ValueError, match="unknown PII kinds"):
        scan_secrets("x", pii=frozenset({"shoe_size"}))


def test_redact_value_walks_json_with_shared_numbering() -> None:
    value = {
        "password": "hunter2",
        "items": [{"note": f"use {AWS}"}, f"again {AWS}", 42, None, True],
        "nested": {"Authorization": "Bearer abc.def"},
        "plain": "hello",
    }
    redacted, findings = redact_value(value)
    assert redacted == {
        "password": "[REDACTED:secret:1]",
        "items": [
            {"note": "use [REDACTED:aws_access_key:1]"},
            "again [REDACTED:aws_access_key:1]",
            42,
            None,
            True,
        ],
        "nested": {"Authorization": "[REDACTED:secret:2]"},
        "plain": "hello",
    }
    assert {f.location for f in findings} == {"$.password", "$.items[0].note", "$.nested.Authorization"}
    assert "hunter2" not in repr(redacted)
