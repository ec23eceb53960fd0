#!/usr/bin/env python3
"""Fails when the top-level modules of a crate import each other in a cycle
(test code aside): each crate must read bottom-up. Prints every cycle."""
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


failed = False
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
