#!/usr/bin/env python3
"""Count the instructions of a quantised matvec inner loop in a compiled object (simd/PERF.md).

Finds, in `objdump -d` of FUNCTION, the smallest loop (a backward branch and the code it jumps over) with at
least MIN instructions matching MARKER (a regex on the instruction text), prints its instructions, a histogram
by mnemonic and the count
per 32 weights (one block) and row, given how many rows and blocks one iteration handles. With --mca CPU[,CPU]
it also runs llvm-mca on the loop body (the branch dropped) and prints the model's cycles per iteration.

  python3 tests/loop_count.py build/simd/x86/kernels_avx2.o matvec_q8_0 --rows 8 --marker vpmaddubsw --min 8 \\
      --mca znver3
  python3 tests/loop_count.py build-aarch64/simd/arm/kernels_neon.o matvec_q8_0 --rows 4 --marker '\\}\\[3\\]' \\
      --objdump aarch64-linux-gnu-objdump --mca cortex-a53,cortex-a72
"""
import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile


def disassemble(objdump, obj, func):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj], capture_output=True, text=True, check=True).stdout
    lines, inside = [], False
    for ln in out.splitlines():
        if re.match(r"^[0-9a-f]+ <%s>:$" % re.escape(func), ln):
            inside = True
            continue
        if inside and not ln.strip():
            break
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", ln) if inside else None
        if m:
            lines.append((int(m.group(1), 16), m.group(2), re.sub(r"\s*(//|#).*", "", m.group(3)).strip()))
    if not lines:
        sys.exit("loop_count: no function %s in %s" % (func, obj))
    return lines


def find_loop(lines, marker, min_count):
    best = None
    for addr, op, args in lines:
        if not (op.startswith("j") or op.startswith("b") or op in ("cbnz", "cbz", "tbnz", "tbz")):
            continue
        t = re.search(r"\b([0-9a-f]+)\b", args)
        if not t or int(t.group(1), 16) >= addr:
            continue
        body = [x for x in lines if int(t.group(1), 16) <= x[0] <= addr]
        hits = sum(1 for _, o, a in body if re.search(marker, "%s %s" % (o, a)))
        if hits >= min_count and (best is None or len(body) < len(best)):
            best = body
    if best is None:
        sys.exit("loop_count: no loop containing /%s/" % marker)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("object")
    ap.add_argument("function")
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--marker", required=True, help="regex an instruction of the wanted loop matches")
    ap.add_argument("--min", type=int, default=1, help="instructions that must match MARKER (default 1)")
    ap.add_argument("--rows", type=int, required=True, help="rows one iteration handles")
    ap.add_argument("--blocks", type=int, default=1, help="32-weight blocks per row one iteration handles")
    ap.add_argument("--mca", default="", help="llvm-mca -mcpu values, comma-separated")
    ap.add_argument("-q", "--quiet", action="store_true", help="no listing")
    a = ap.parse_args()
    body = find_loop(disassemble(a.objdump, a.object, a.function), a.marker, a.min)
    if not a.quiet:
        for _, op, args in body:
            print("    %-12s %s" % (op, args))
    hist = collections.Counter(op for _, op, _ in body)
    per = len(body) / (a.rows * a.blocks)
    print("%s %s: %d instructions per iteration (%d rows x %d blocks) = %.2f per 32 weights and row" %
          (a.object, a.function, len(body), a.rows, a.blocks, per))
    print("  " + ", ".join("%s %d" % kv for kv in hist.most_common()))
    if a.mca:
        mca = shutil.which("llvm-mca") or shutil.which("llvm-mca-14")
        if not mca:
            print("  llvm-mca: not installed (Debian package llvm)")
            return
        triple = "aarch64" if "aarch64" in a.objdump else "x86_64"
        with tempfile.NamedTemporaryFile("w", suffix=".s") as f:
            if triple == "x86_64":
                f.write(".att_syntax\n")
            for _, op, args in body[:-1]:            # the loop branch dropped
                f.write("%s %s\n" % (op, args))
            f.flush()
            for cpu in a.mca.split(","):
                extra = ["-mattr=+dotprod"] if triple == "aarch64" else []
                r = subprocess.run([mca, "-mtriple=" + triple, "-mcpu=" + cpu, "-iterations=300", *extra, f.name],
                                   capture_output=True, text=True)
                m = re.search(r"Total Cycles:\s+(\d+)", r.stdout)
                if not m:
                    print("  llvm-mca %s: failed: %s" % (cpu, (r.stderr.strip().splitlines() or ["?"])[0]))
                    continue
                cyc = int(m.group(1)) / 300
                print("  llvm-mca -mcpu=%s: %.1f cycles per iteration = %.2f per 32 weights and row" %
                      (cpu, cyc, cyc / (a.rows * a.blocks)))


if __name__ == "__main__":
    main()
