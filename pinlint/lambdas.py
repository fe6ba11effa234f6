"""Which functions are AWS Lambda handlers, read from the project's deployment files.

PIN501 gives a stronger message for a transaction left open by a Lambda handler.
Besides the conventional names (a module-level ``handler`` or ``lambda_handler``,
which the rule knows by itself), handlers are named in:

* Serverless Framework, ``serverless.yml`` / ``serverless.yaml``:
  ``handler: src/orders.create``, a path relative to the file's directory;
* AWS SAM, ``template.yaml`` / ``template.yml``: ``Handler: app.lambda_handler``,
  relative to the function's ``CodeUri:`` when that is a local directory;
* Terraform, ``*.tf``: ``handler = "app.lambda_handler"``. The package the ``.tf`` file
  deploys is usually built elsewhere, so these stay as written.

A handler comes back as ``dotted.module.function``, the module relative to the
project root when the file says where the code is. The rule matches it against the
end of a checked file's dotted path, so ``app.lambda_handler`` names ``app.py`` in
any directory. A function whose ``runtime``/``Runtime`` is given and is not Python
is left out.

The files are looked for under the checked directories, at most `MAX_DEPTH` levels
down (hidden directories, virtualenvs and the excluded names are skipped), and in every
directory from a checked path up to the project root. Deployment files sit near the top
of a project or a service; not descending further keeps the walk cheap in large trees.

The YAML files are not parsed as YAML: PyYAML is not a dependency of pinlint, and SAM
templates use CloudFormation tags (``!Ref``, ``!Sub``) that a plain YAML loader
rejects. A small reader takes the ``key: value`` lines of block mappings with their
indentation, which is all that is needed to find a handler, its ``CodeUri`` and its
runtime among the keys of the same mapping. Flow mappings (``{handler: x}``) and
multi-line scalars are not read.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pinlint.config import Config

#: The rule that reads the handlers; without it nothing is searched.
RULE = "PIN501"
SERVERLESS = ("serverless.yml", "serverless.yaml")
SAM = ("template.yaml", "template.yml")
#: Larger deployment files are not read.
MAX_BYTES = 1 << 20
#: How many directory levels below a checked directory are searched.
MAX_DEPTH = 4

_YAML_KEY = re.compile(r"(?P<indent> *)(?:- +)?(?P<key>[A-Za-z_][\w.-]*) *:(?: +(?P<value>.*))?$")
_TF_HANDLER = re.compile(r'^\s*handler\s*=\s*"(?P<value>[^"]*)"', re.MULTILINE)
_TF_RUNTIME = re.compile(r'^\s*runtime\s*=\s*"(?P<value>[^"]*)"', re.MULTILINE)


def with_lambda_handlers(config: Config, paths: Sequence[Path], root: Path) -> Config:
    """`config` with the handlers the deployment files name (unchanged when PIN501 is
    off or none are found)."""
    if RULE not in config.enabled_codes:
        return config
    handlers = lambda_handlers(paths, root, config.excludes)
    return replace(config, lambda_handlers=handlers) if handlers else config


def lambda_handlers(paths: Sequence[Path], root: Path, excludes: Sequence[str]) -> tuple[str, ...]:
    """Every handler named by the deployment files for `paths`, sorted."""
    found: set[str] = set()
    for path in _deployment_files(paths, root.resolve(), excludes):
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        where = _relative_dir(path.parent, root.resolve())
        if path.name in SERVERLESS:
            found.update(_serverless(text, where))
        elif path.name in SAM:
            found.update(_sam(text, where))
        else:
            found.update(_terraform(text))
    return tuple(sorted(found))


def _wanted(name: str) -> bool:
    return name in SERVERLESS or name in SAM or name.endswith(".tf")


def _deployment_files(paths: Sequence[Path], root: Path, excludes: Sequence[str]) -> Iterator[Path]:
    listings: dict[Path, list[os.DirEntry[str]]] = {}
    yielded: set[str] = set()
    walked: set[Path] = set()

    def listing(directory: Path) -> list[os.DirEntry[str]]:
        if directory not in listings:
            try:
                with os.scandir(directory) as entries:
                    listings[directory] = list(entries)
            except OSError:
                listings[directory] = []
        return listings[directory]

    def files_in(directory: Path) -> Iterator[Path]:
        for entry in listing(directory):
            if _wanted(entry.name) and entry.path not in yielded and entry.is_file():
                yielded.add(entry.path)
                yield Path(entry.path)

    for start in paths:
        start = start.resolve()
        directory = start if start.is_dir() else start.parent
        # The checked path's directory and those above it, up to the project root.
        for above in (directory, *directory.parents):
            yield from files_in(above)
            if above == root or root not in above.parents:
                break
        if not start.is_dir():
            continue
        stack = [(directory, 0)]
        while stack:
            current, depth = stack.pop()
            if current in walked:
                continue
            walked.add(current)
            yield from files_in(current)
            if depth == MAX_DEPTH:
                continue
            for entry in listing(current):
                if (
                    entry.is_dir(follow_symlinks=False)
                    and not _skipped(entry.name, excludes)
                    and not os.path.isfile(os.path.join(entry.path, "pyvenv.cfg"))
                ):
                    stack.append((Path(entry.path), depth + 1))


def _skipped(name: str, excludes: Sequence[str]) -> bool:
    return name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in excludes)


def _relative_dir(directory: Path, root: Path) -> str | None:
    """`directory` relative to `root` (posix, "" for the root), None when outside it."""
    try:
        return directory.relative_to(root).as_posix().strip(".")
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    indent: int
    key: str
    value: str


def _yaml_lines(text: str) -> list[_Line]:
    """The ``key: value`` lines of block mappings (list items count as mappings)."""
    out = []
    for number, raw in enumerate(text.splitlines()):
        line = _strip_comment(raw.rstrip())
        match = _YAML_KEY.match(line)
        if match is None:
            continue
        value = _unquote((match.group("value") or "").strip())
        indent = len(match.group("indent"))
        if line.lstrip().startswith("- "):
            indent = len(line) - len(line.lstrip()[2:].lstrip())
        out.append(_Line(number, indent, match.group("key"), value))
    return out


def _strip_comment(line: str) -> str:
    """`line` without a trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index].rstrip()
    return line


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _siblings(lines: list[_Line], index: int) -> dict[str, str]:
    """The keys of the mapping that holds `lines[index]` (same indentation, no line
    with less indentation in between)."""
    indent = lines[index].indent
    out: dict[str, str] = {}
    for step in (-1, 1):
        position = index
        while 0 <= position < len(lines) and lines[position].indent >= indent:
            if lines[position].indent == indent:
                out.setdefault(lines[position].key, lines[position].value)
            position += step
    return out


def _python(runtime: str | None) -> bool:
    return runtime is None or runtime == "" or runtime.lower().startswith("python")


def _handler(value: str, prefix: str | None) -> str | None:
    """``path/module.function`` under `prefix` as ``dotted.module.function``."""
    value = value.strip()
    if not value or any(c in value for c in "${}!:* "):
        return None
    module, _, function = value.rpartition(".")
    if not module or not function.isidentifier():
        return None
    module = posixpath.normpath(module.replace("\\", "/")).removeprefix("./")
    if module.startswith("../") or module.startswith("/"):
        return None
    if prefix:
        joined = posixpath.normpath(posixpath.join(prefix, module))
        if not joined.startswith(".."):
            module = joined
    dotted = module.replace("/", ".").strip(".")
    return f"{dotted}.{function}" if dotted else None


def _serverless(text: str, where: str | None) -> Iterator[str]:
    lines = _yaml_lines(text)
    for index, line in enumerate(lines):
        if line.key != "handler":
            continue
        if not _python(_siblings(lines, index).get("runtime")):
            continue
        handler = _handler(line.value, where)
        if handler is not None:
            yield handler


def _sam(text: str, where: str | None) -> Iterator[str]:
    lines = _yaml_lines(text)
    for index, line in enumerate(lines):
        if line.key != "Handler":
            continue
        siblings = _siblings(lines, index)
        if not _python(siblings.get("Runtime")):
            continue
        code = siblings.get("CodeUri", "")
        local = code and "://" not in code and not code.startswith(("!", "{"))
        prefix = posixpath.join(where, code) if local and where is not None else None
        handler = _handler(line.value, prefix)
        if handler is not None:
            yield handler


def _terraform(text: str) -> Iterator[str]:
    runtimes = [m.group("value") for m in _TF_RUNTIME.finditer(text)]
    if runtimes and not any(_python(r) for r in runtimes):
        return
    for match in _TF_HANDLER.finditer(text):
        handler = _handler(match.group("value"), None)
        if handler is not None:
            yield handler
