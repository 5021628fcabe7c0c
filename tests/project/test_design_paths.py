"""Every file, folder and module docs/design.md names exists (issue 28): the design page must
not describe modules that are gone or leave a renamed one under its old name.

What counts as a name:

- the ``## Layout`` block: a line at indent 0 names a top-level folder (``curiosity/``), an
  indented line an entry of it (``  envs/``, ``  train.py``); the names in an entry's
  description (``factory.py``, ``vector.py``) sit in that entry's folder, or in the top-level
  folder when the entry is a file or several folders. A name whose first part is a top-level
  folder of the repository (``docs/fair_protocol.md``, ``tests/project/``) is read from the root.
  Names are tokens ending in ``.py``, ``.md``, ``.yaml``, ``.toml`` or ``/``.
- elsewhere: paths in backticks or in the prose ending in ``.py``/``.md``/``.yaml``/``.toml``
  (from the root, from ``docs/`` or from ``curiosity/``: ``agent/gae.py``), bare file names in
  backticks (somewhere in the repository), link targets (from ``docs/``) and dotted module
  names (``curiosity.tools.bonus_probe``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "design.md"
DESC_COLUMN = 28  # the Layout block's description column: a line indented this far continues the entry above
EXTENSIONS = (".py", ".md", ".yaml", ".toml")
EXTERNAL = {"ppo.py", "ppo_rnd_envpool.py"}  # CleanRL's files, named in 'Style followed'
PACKAGES = ("curiosity", "baselines", "analysis")
SKIP_DIRS = {".git", ".venv", "__pycache__", "runs", "outputs", "multirun", "wandb"}
PATH_TOKEN = re.compile(r"^[\w.-]+(?:/[\w.-]+)*/?$")


def _is_path(token: str) -> bool:
    return bool(PATH_TOKEN.match(token)) and (token.endswith(EXTENSIONS) or token.endswith("/"))


def _clean(token: str) -> str:
    return token.lstrip("([`'\"").rstrip(",;:.)]`'\"")


def _from(base: Path, token: str, root: Path) -> Path:
    """``token`` from the repository root when its first part is a top-level folder
    (``docs/library.md``, ``conf/``), else from ``base``."""
    first = token.split("/")[0]
    return root / token if "/" in token and (root / first).is_dir() else base / token


def layout_block(text: str) -> str:
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1].split("\n", 1)[1]


def layout_paths(block: str, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(name as written, path it means) for every name in the Layout block."""
    out: list[tuple[str, Path]] = []
    top = context = root
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= DESC_COLUMN:  # continues the entry above: same folder
            desc = line
        else:
            names_part, *rest = re.split(r"\s{2,}", line.strip(), maxsplit=1)  # names, then the description
            desc = rest[0] if rest else ""
            names = [n for n in names_part.split() if _is_path(n)]
            if indent == 0:
                top = root / names[0] if names and names[0].endswith("/") else root
                context = top
                out += [(n, root / n) for n in names]
            else:
                out += [(n, _from(top, n, root)) for n in names]
                folders = [n for n in names if n.endswith("/")]
                context = _from(top, folders[0], root) if len(folders) == 1 and len(names) == 1 else top
        for token in map(_clean, desc.split()):
            if _is_path(token):
                out.append((token, _from(context, token, root)))
    return out


def _repo_file_names(root: Path) -> set[str]:
    names = set()
    for _, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")]
        names.update(files)
    return names


def _module_missing(dotted: str, root: Path) -> bool:
    """True when a package along ``dotted`` has no submodule or name for the next part
    (``curiosity.tools.bogus``); the parts after a module file are attributes, not checked."""
    first, *rest = dotted.split(".")
    path = root / first
    for part in rest:
        if (path / part).is_dir():
            path = path / part
        elif (path / f"{part}.py").is_file():
            return False
        else:
            init = path / "__init__.py"
            return not (init.is_file() and re.search(rf"\b{re.escape(part)}\b", init.read_text()))
    return not path.is_dir()


def named_elsewhere(text: str, root: Path = ROOT) -> list[tuple[str, list[Path] | None]]:
    """(name, candidate paths, any of which may exist) for the names outside the Layout block;
    candidates None: a dotted module name, checked by :func:`_module_missing`."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)  # the Layout block has its own rules
    bases = (root, root / "docs", root / "curiosity")
    out: list[tuple[str, list[Path] | None]] = []
    for span in re.findall(r"`([^`]+)`", prose):
        token = _clean(span.split()[0]) if span.split() else ""
        if not token.endswith(EXTENSIONS) or re.search(r"[*<>]", token) or token in EXTERNAL:
            continue
        if "/" in token:
            out.append((token, [b / token for b in bases]))
        else:
            out.append((token, []))  # a bare file name: anywhere in the repository
    outside_ticks = re.sub(r"`[^`]*`", "", prose)
    for token in re.findall(r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.(?:py|md|yaml|toml))\b", outside_ticks):
        out.append((token, [b / token for b in bases]))
    for target in re.findall(r"\]\(([^)\s#]+)", prose):
        if not re.match(r"[a-z]+://|mailto:", target):
            out.append((target, [root / "docs" / target]))
    for dotted in re.findall(rf"(?<![\w./-])((?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_]\w*)+)", prose):
        out.append((dotted, None))
    return out


def missing_paths(text: str, root: Path = ROOT) -> list[str]:
    """The names in ``text`` (a design page) that do not exist under ``root``, as written."""
    missing = [f"Layout: {name} ({path.relative_to(root)})" for name, path in layout_paths(layout_block(text), root)
               if not path.exists()]
    file_names = None
    for name, candidates in named_elsewhere(text, root):
        if candidates is None:
            found = not _module_missing(name, root)
        elif candidates:
            found = any(c.exists() for c in candidates)
        else:
            file_names = _repo_file_names(root) if file_names is None else file_names
            found = name in file_names
        if not found and name not in missing:  # a link's target may be in the prose too
            missing.append(name)
    return missing


def test_every_path_design_md_names_exists():
    text = DOC.read_text()
    named = layout_paths(layout_block(text))
    assert len(named) > 80  # the Layout block was parsed, not skipped
    for must in ("curiosity/envs/vector.py", "baselines/ride.py", "curiosity/intrinsic/reward_kinds.py",
                 "curiosity/run/README.md", "conf/experiment/tune.yaml", "tests/project/test_design_paths.py"):
        assert ROOT / must in {p for _, p in named}, f"the Layout block does not name {must}"
    missing = missing_paths(text)
    assert not missing, "docs/design.md names paths that do not exist: " + "; ".join(missing)


def test_every_package_module_is_in_the_layout():
    """The other direction, for the packages: a module nobody put in the Layout block."""
    named = {p for _, p in layout_paths(layout_block(DOC.read_text()))}
    unlisted = [str(path.relative_to(ROOT)) for pkg in PACKAGES for path in sorted((ROOT / pkg).rglob("*.py"))
                if path.name != "__init__.py" and path not in named]
    assert not unlisted, "modules missing from docs/design.md's Layout block: " + ", ".join(unlisted)


FAKE_DOC = """# Design

## Layout

```
Makefile  pyproject.toml  README.md
conf/                       the Hydra config tree
  hydra/launcher/           slurm.yaml, nolauncher.yaml
curiosity/                  the core; train.py
  envs/                     vector.py (python backend),
                            gone.py (renamed long ago)
  tools/                    bench.py
baselines/                  rnd.py, bogus.py; docs/nothere.md
tests/
  project/                  test_design_paths.py, test_lost.py
```

## How data flows

`curiosity/envs/full_grid.py` and `curiosity/envs/bogus.py`, `agent/gae.py: fn` and `agent/nogae.py`;
`test_integrity.py`, `test_nowhere.py`, `ppo_rnd_envpool.py`, `charts/`, `conf/method/<name>.yaml`.
See docs/methods/rnd.md and docs/methods/nomethod.md, [usage](usage.md), [gone](results/gone.md),
`curiosity.tools.bonus_probe`, curiosity.paths.method_names(), curiosity.tools.nomodule.
"""


def test_the_checker_finds_missing_paths():
    """Each kind of name, once present and once missing: only the missing ones are reported."""
    assert sorted(missing_paths(FAKE_DOC)) == sorted([
        "Layout: nolauncher.yaml (conf/hydra/launcher/nolauncher.yaml)",
        "Layout: gone.py (curiosity/envs/gone.py)",
        "Layout: bogus.py (baselines/bogus.py)",
        "Layout: docs/nothere.md (docs/nothere.md)",
        "Layout: test_lost.py (tests/project/test_lost.py)",
        "curiosity/envs/bogus.py", "agent/nogae.py", "test_nowhere.py", "docs/methods/nomethod.md",
        "results/gone.md", "curiosity.tools.nomodule",
    ])
