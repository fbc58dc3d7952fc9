"""YAML for files a user hands the mock (scenarios, fixtures, tokens): no aliases.

A few hundred bytes of nested aliases (`a: &a [x,x,...]`, `b: &b [*a,*a,...]`) expand to gigabytes
when loaded, and a match condition built from them grows with every request. The mock's own files
never need aliases, so any alias is refused at parse time, before anything is expanded, with the
file and line that used it.
"""

from __future__ import annotations

from typing import IO, Any

import yaml


class YamlRefused(ValueError):
    """A YAML document the mock will not load; the message names the source and line."""


def _loader_for(source: str) -> type[yaml.SafeLoader]:
    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise YamlRefused(
                    f"{source}:{event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not accepted; "
                    "write the value out in full"
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


def load_yaml(stream: str | bytes | IO[str] | IO[bytes], source: str = "<yaml>") -> Any:
    """`yaml.safe_load`, refusing aliases; a syntax error also names `source` and the line."""
    try:
        return yaml.load(stream, Loader=_loader_for(source))  # a SafeLoader subclass: no Python tags
    except YamlRefused:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise YamlRefused(f"{where}: not valid YAML ({error.problem or error.context})") from error
    except yaml.YAMLError as error:
        raise YamlRefused(f"{source}: not valid YAML ({error})") from error
    except RecursionError as error:
        raise YamlRefused(f"{source}: nested too deeply to load") from error
    except ValueError as error:  # a value's constructor: a date like 2024-13-01, an integer of 5000 digits
        reason = "an integer has more than 4300 digits" if "int_max_str_digits" in str(error) else str(error)
        raise YamlRefused(f"{source}: a value cannot be read ({reason})") from error
