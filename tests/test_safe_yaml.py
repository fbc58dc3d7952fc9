"""User YAML (scenarios, fixtures, tokens) is loaded without aliases: a small alias bomb is refused
at parse time, naming the file and line, instead of growing the process by gigabytes."""

import pytest

from mockserver.safe_yaml import YamlRefused, load_yaml

# 9 levels of 9 aliases each: 9**9 (387 million) strings once expanded, in under 500 bytes
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_an_alias_bomb_is_refused_with_the_file_and_line() -> None:
    assert len(ALIAS_BOMB.encode()) < 600
    with pytest.raises(YamlRefused, match=r"^rules\.yaml:2: YAML aliases \(\*a\) are not accepted"):
        load_yaml(ALIAS_BOMB, "rules.yaml")


def test_an_anchor_without_an_alias_and_plain_yaml_load() -> None:
    assert load_yaml("a: &x 1\nb: [2, 3]\n") == {"a": 1, "b": [2, 3]}


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(YamlRefused, match=r"^f\.yaml:2: not valid YAML"):
        load_yaml("a: 1\nb: c: d\n", "f.yaml")


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlRefused):
        load_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
