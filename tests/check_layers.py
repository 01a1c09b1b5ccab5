#!/usr/bin/env python3
"""tests/check_layers.py — the include graph of the C code follows the layers (README.md "Layering").

Reads every #include "..." of the tracked .c/.h files (git ls-files, else a walk of the tree) and checks:
  1. every quoted include names its folder from the repository root and the file exists (one -I.);
  2. no include points up a layer or across to another folder of the same layer (LAYERS below, the one place
     the order is written down);
  3. commands (layer 5) use the public API only: runtime/edgegen.h, the text front end, their own folder;
  4. no include cycle between files.
Prints one harness line per check and "N passed, N failed, N skipped". Usage: python3 tests/check_layers.py [ROOT]
"""
import os
import re
import subprocess
import sys

# (folder, layer): a file may include its own folder and folders of a LOWER layer only. Most specific first.
LAYERS = [
    ("ports", 0),              # OS services (files, clock, RSS) and the log sink
    ("runtime/core", 1),       # platform + formats: cpu, pool, arena, memory limits, gguf, memplan, wav, status
    ("simd", 2),               # kernel tables and their dispatch (knows no model)
    ("opencl", 2),             # OpenCL device backend: loader, runtime, ops (knows no model)
    ("models", 3),             # AR LM, codec decoder, iSTFT, sampler, the stage/ops interface
    ("runtime/pipeline", 4),   # text -> phonemes -> AR -> decoder -> PCM; implements runtime/edgegen.h
    ("runtime/text", 4),       # normaliser (library) and the espeak-ng front end (GPL, CLI side only)
    ("runtime/cli", 5),        # `edgegen` commands: public API only
    ("runtime/serve", 5),      # `edgegen serve`: public API only
    ("tests", 6),              # tests and benches may reach any layer
]
PUBLIC_API = "runtime/edgegen.h"        # includes nothing of ours; any layer may use it
COMMAND_MAY_USE = ("runtime/text",)    # besides PUBLIC_API and their own folder (the GPL front end, the normaliser)
GENERATED = {"cl_kernels_gen.h"}       # written by the Makefile into $(BUILD)/gen (the one extra -I)
# Includes that break the rules, each printed (not failed) until it is removed. Keep it empty.
KNOWN = {}
SKIP_DIRS = ("models/train", "models/eval", "models/data", "build")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    for folder, layer in LAYERS:
        if path == folder or path.startswith(folder + "/"):
            return folder, layer
    return None, None


def sources(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "*.c", "*.h"], capture_output=True, text=True,
                             check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for d, _, fs in os.walk(root):
            out += [os.path.relpath(os.path.join(d, f), root) for f in fs if f.endswith((".c", ".h"))]
    return sorted(p for p in out if not p.startswith(SKIP_DIRS) and os.path.exists(os.path.join(root, p)))


def check(root, files, known_table):
    """[(check name, [problem, ...])], [known exception, ...] for the tree at root."""
    graph = {}
    unqualified, up, commands, unplaced, known = [], [], [], [], []
    for f in files:
        src_folder, src_layer = folder_of(f)
        if src_folder is None and f != PUBLIC_API:
            unplaced.append(f"{f}: not in any layer folder (tests/check_layers.py LAYERS)")
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        graph[f] = []
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            where = f"{f}:{line}: #include \"{inc}\""
            if inc in GENERATED:
                continue
            if "/" not in inc or not os.path.isfile(os.path.join(root, inc)):
                unqualified.append(f"{where}: expected a path from the repository root to an existing file")
                continue
            graph[f].append((inc, where))
            if inc == PUBLIC_API or src_folder is None:
                continue
            if inc in known_table.get(f, ()):
                known.append(where)
                continue
            dst_folder, dst_layer = folder_of(inc)
            if dst_folder is None:
                up.append(f"{where}: {inc} is in no layer folder")
            elif dst_folder != src_folder and dst_layer >= src_layer:
                up.append(f"{where}: {src_folder} (layer {src_layer}) may not include {dst_folder} "
                          f"(layer {dst_layer})")
            if src_layer == 5 and dst_folder != src_folder and not dst_folder.startswith(COMMAND_MAY_USE):
                commands.append(f"{where}: a command uses {PUBLIC_API} only (and {', '.join(COMMAND_MAY_USE)})")

    # include cycles between files (Tarjan-free: DFS with colours, report each back edge's cycle once)
    cycles, colour, stack = [], {}, []

    def visit(n):
        colour[n] = 1
        stack.append(n)
        for dst, where in graph.get(n, []):
            if colour.get(dst) == 1:
                cycles.append(" -> ".join(stack[stack.index(dst):] + [dst]) + f"  ({where})")
            elif colour.get(dst) is None:
                visit(dst)
        stack.pop()
        colour[n] = 2

    sys.setrecursionlimit(10000)
    for n in sorted(graph):
        if colour.get(n) is None:
            visit(n)

    checks = [
        ("every file is in a layer folder", unplaced),
        ("includes name their folder (one -I.)", unqualified),
        ("no include points up a layer or across one", up),
        ("commands use the public API only", commands),
        ("no include cycle", cycles),
    ]
    return checks, known, len(files), sum(len(v) for v in graph.values())


def self_test():
    """Each check must fail on a tree that breaks it (so none of them can pass whatever the code does)."""
    import tempfile
    bad = {
        "ports/a.h": '#include "runtime/core/b.h"\n',          # up a layer
        "runtime/core/b.h": '#include "runtime/core/c.h"\n',
        "runtime/core/c.h": '#include "runtime/core/b.h"\n',   # cycle b -> c -> b
        "simd/k.c": '#include "opencl/o.h"\n#include "k.h"\n',  # across a layer; unqualified
        "opencl/o.h": "",
        "runtime/cli/x.c": '#include "runtime/core/b.h"\n',    # a command past the public API
        "stray/y.c": "",                                        # in no layer
    }
    with tempfile.TemporaryDirectory() as d:
        for rel, text in bad.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as fh:
                fh.write(text)
        checks, _, _, _ = check(d, sorted(bad), {})
    return [name for name, problems in checks if not problems]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    checks, known, n_files, n_includes = check(root, sources(root), KNOWN)
    cannot_fail = self_test()
    checks.append(("each check fails on a tree that breaks it",
                   [f"'{name}' passed a broken tree" for name in cannot_fail]))
    n_pass = n_fail = 0
    for name, problems in checks:
        if problems:
            n_fail += 1
            print(f"FAIL {name}: {len(problems)} problem(s)")
            for p in problems:
                print(f"     {p}")
        else:
            n_pass += 1
            print(f"ok   {name}")
    for k in known:
        print(f"     known exception (tests/check_layers.py KNOWN): {k}")
    print(f"   ({n_files} files, {n_includes} includes)")
    print(f"{n_pass} passed, {n_fail} failed, 0 skipped")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
