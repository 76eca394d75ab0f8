"""Issue 20, case 3: a bad setting is one line naming the variable, the value and what is allowed, for every command.

Was: a pydantic ValidationError traceback (K, BACKEND, EMBEDDING_BATCH_SIZE), pydantic-settings' SettingsError twice
(DOCUMENTS, TRUSTED_PROXIES, serve included), a ValueError from transformers (EMBEDDING_MODEL=/etc).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resolution_qa.core.errors import SettingsValueError
from resolution_qa.core.settings import Settings

Run = Callable[..., tuple[int, str, str]]

BAD = [
    ("K", "-1", "greater than or equal to 1; allowed: a whole number from 1 to 50"),
    ("K", "abc", "valid integer"),
    ("K", "51", "allowed: a whole number from 1 to 50"),
    ("BACKEND", "evil", "unknown backend 'evil'; choose llamacpp"),
    ("EMBEDDING_BATCH_SIZE", "0", "allowed: a whole number 1 or more"),
    ("DOCUMENTS", "garbage", "not a JSON list; allowed: a JSON list of resolution files or folders, e.g. ["),
    ("TRUSTED_PROXIES", "garbage", 'not a JSON list; allowed: a JSON list of IP addresses or networks, e.g. ["127'),
    ("TRUSTED_PROXIES", '["garbage"]', "'garbage' is not an IP address or network"),
    ("EMBEDDING_MODEL", "/etc", "the folder /etc holds no sentence-transformers model"),
    ("LLM_TEMPERATURE", "nan", "allowed: a number from 0.0 to 2.0"),
]
IDS = [f"{name}={value}" for name, value, _ in BAD]


@pytest.mark.parametrize(("name", "value", "expected"), BAD, ids=IDS)
def test_a_bad_variable_is_one_line_naming_it(name: str, value: str, expected: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"RESOLUTION_QA_{name}", value)
    with pytest.raises(SettingsValueError) as caught:
        Settings()
    message = str(caught.value)
    assert message.startswith(f"RESOLUTION_QA_{name}={value}: ") and "\n" not in message, message
    assert expected in message, message


def test_a_bad_keyword_is_named_as_given_and_a_secret_is_never_echoed() -> None:
    with pytest.raises(SettingsValueError, match=r"^k=0: .*allowed: a whole number from 1 to 50$"):
        Settings(k=0)
    with pytest.raises(SettingsValueError) as caught:
        Settings(auth_password=["not", "text"])
    assert "not" not in str(caught.value) and "auth_password=***" in str(caught.value)


COMMANDS = [
    ("search", "paragraphe 27"),
    ("ask", "Que dit le paragraphe 27 ?"),
    ("documents",),
    ("ingest",),
    ("feedback", "export"),
    ("serve",),
    ("chat",),
    ("models", "status"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] + (f"-{c[1]}" if c[0] in ("feedback", "models") else "")
                                                   for c in COMMANDS])
@pytest.mark.parametrize(("name", "value", "expected"), [BAD[0], BAD[3], BAD[5], BAD[6], BAD[8]],
                         ids=[IDS[0], IDS[3], IDS[5], IDS[6], IDS[8]])
def test_every_command_says_it_in_one_line(command: tuple[str, ...], name: str, value: str, expected: str,
                                           cli_main: Run, model_loads: list,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"RESOLUTION_QA_{name}", value)
    code, out, err = cli_main(*command)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: RESOLUTION_QA_{name}={value}: "), err
    assert expected in lines[0]
    assert model_loads == []  # said before any model loads


def test_an_option_is_named_rather_than_its_variable(cli_main: Run) -> None:
    code, _, err = cli_main("serve", "--port", "70000")
    assert code == 2 and err.strip() == "error: --port 70000: Input should be less than or equal to 65535; allowed: " \
                                        "a whole number from 1 to 65535"
