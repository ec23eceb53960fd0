#!/usr/bin/env python3
"""Fails when the top-level modules of a crate import each other in a cycle
(test code aside): each crate must read bottom-up. Prints every cycle.

Also fails when a command of the CLI (a module under src/commands/) imports
another command: a command is arguments -> an operation -> a printer, and
what two commands share lives outside the commands (src/print.rs, the
operations) or in src/commands/mod.rs."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = [os.path.join(ROOT, "src")] + [
    os.path.join(ROOT, "crates", c, "src") for c in sorted(os.listdir(os.path.join(ROOT, "crates")))
]


def code(text):
    """The text before its `#[cfg(test)]` test module, if any, without
    comment lines (a doc link is not an import)."""
    match = re.search(r"#\[cfg\(test\)\]\s*(pub(\(crate\))? )?mod \w+", text)
    text = text[: match.start()] if match else text
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def modules(src):
    found = {}
    for entry in os.listdir(src):
        path = os.path.join(src, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            found[entry[:-3]] = [path]
        elif os.path.isdir(path) and entry != "bin":
            found[entry] = [
                os.path.join(root, f) for root, _, files in os.walk(path) for f in files if f.endswith(".rs")
            ]
    return found


def cycles(graph):
    found, stack, state = [], [], {}

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def top_level_names(group):
    """`a`, `{a, b::c, d as e}` -> the first segment of each path."""
    if not group.startswith("{"):
        return [group]
    depth, part, parts = 0, "", []
    for ch in group[1:-1]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    return [re.match(r"\s*(\w*)", p).group(1) for p in parts if p.strip()]


def command_imports():
    """(file, command it belongs to, other command it names) for every path
    from a command's file into a sibling command's module."""
    root = os.path.join(ROOT, "src", "commands")
    commands = set(modules(root)) - {"mod"}
    found = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs") or (dirpath == root and f == "mod.rs"):
                continue
            path = os.path.join(dirpath, f)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            own = parts[0]
            # The module path of this file below `commands`
            # (mod.rs is its folder's module).
            depth = len(parts) - (1 if parts[-1] == "mod" else 0)
            text = code(open(path, encoding="utf-8").read())
            # Paths that resolve to `commands`: `crate::commands::` or as
            # many `super::` as the file is deep.
            prefix = r"(?:crate::commands::|\b(?:super::){%d}(?!super::))" % depth
            group = r"(\{(?:[^{}]|\{[^{}]*\})*\}|\w+)"
            for match in re.finditer(prefix + group, text):
                for name in top_level_names(match.group(1)):
                    if name in commands and name != own:
                        found.append((os.path.relpath(path, ROOT), own, name))
    return found


failed = False
for path, own, other in command_imports():
    failed = True
    print(f"{path}: the command `{own}` imports the command `{other}`", file=sys.stderr)
for src in CRATES:
    if not os.path.isdir(src):
        continue
    mods = modules(src)
    graph = {}
    for name, files in mods.items():
        deps = set()
        for path in files:
            text = code(open(path, encoding="utf-8").read())
            deps |= {m for m in re.findall(r"\bcrate::(\w+)", text) if m in mods and m != name}
        graph[name] = deps
    for cycle in cycles(graph):
        failed = True
        print(f"{os.path.relpath(src, ROOT)}: import cycle: {' -> '.join(cycle)}", file=sys.stderr)
sys.exit(1 if failed else 0)
