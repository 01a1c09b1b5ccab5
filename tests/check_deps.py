#!/usr/bin/python3
"""tests/check_deps.py — every file a build reads from outside the repository belongs to a Debian package that
ports/setup-debian.sh installs, directly or through Depends/Pre-Depends (never Recommends, never a package that
merely happens to be installed on this machine).

    tests/check_deps.py [--setup SCRIPT] [--port PORT]... [--run BUILD_DIR=QEMU-COMMAND] [BUILD_DIR...]

--port aarch64 adds build-aarch64 with the qemu command of ports/toolchains/aarch64.mk (make print-QEMU).

For each BUILD_DIR (the Makefile writes both):
  * the compiler's dependency files (*.o.d from -MD: every header, system headers included),
  * the linker's dependency files (*.link.d from -Wl,--dependency-file: crt objects, linker scripts, .so, .a),
  * the shared libraries the binaries load at run time: `ldd` natively; for a cross build the target's dynamic
    loader lists them under qemu (--run BUILD_DIR="qemu-aarch64 -L ..."; LD_TRACE_LOADED_OBJECTS=1), each also
    resolved to its file (and the symlink's target),
  * the tools the build and the tests run (compilers, xxd, qemu, python3, ...), found on PATH.
Each path is mapped to its package with `dpkg -S`. The set of allowed packages is the closure of the setup
script's list (`sh ports/setup-debian.sh --list`) plus the Essential set over Depends and Pre-Depends of the
installed packages (alternatives: any installed one; virtual packages: their installed providers; architecture:
the depending package's own, or any for Multi-Arch: foreign / :any). A file from a package outside that closure,
or from no package, is a failure naming the file, its package and the binary or object that read it.

Ends with a harness line "N passed, N failed, 0 skipped" (one check per build directory and one for the tools).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
NATIVE_ARCH = subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True).stdout.strip()

# programs the Makefile and the test scripts run (found on PATH when present; a missing one is not a failure
# here: the suites that need it fail or skip on their own)
TOOLS = ['cc', 'gcc', 'ar', 'make', 'xxd', 'pkg-config', 'readelf', 'objdump', 'nm', 'file', 'clang',
         'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-objdump', 'arm-linux-gnueabihf-gcc',
         'arm-linux-gnueabihf-objdump', 'qemu-aarch64', 'qemu-arm', 'prlimit', 'clinfo', '/usr/bin/python3']


def setup_packages(script):
    out = subprocess.run(['sh', script, '--list'], capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        sys.exit(f'FAIL {script} --list: exit {out.returncode}: {out.stderr.strip()}')
    return [p for p in out.stdout.split() if p]


class Dpkg:
    """Installed packages as (name, arch) with their Depends/Pre-Depends/Provides/Multi-Arch/Essential."""

    def __init__(self):
        fmt = '${Package}\t${Architecture}\t${db:Status-Abbrev}\t${Multi-Arch}\t${Essential}\t${Provides}\t' \
              '${Depends}\t${Pre-Depends}\n'
        out = subprocess.run(['dpkg-query', '-W', '-f', fmt], capture_output=True, text=True, check=True).stdout
        self.pkgs = {}        # (name, arch) -> dict
        self.by_name = {}     # name -> [(name, arch)]
        self.providers = {}   # virtual name -> [(name, arch)]
        for line in out.splitlines():
            f = line.split('\t')
            if len(f) < 8 or not f[2].startswith('ii'):
                continue
            key = (f[0], f[1])
            self.pkgs[key] = {'ma': f[3], 'essential': f[4] == 'yes', 'deps': f[6] + (', ' + f[7] if f[7] else '')}
            self.by_name.setdefault(f[0], []).append(key)
            for prov in filter(None, (p.strip() for p in f[5].split(','))):
                self.providers.setdefault(re.split(r'[\s(:]', prov)[0], []).append(key)

    def lookup(self, spec, from_arch):
        """Installed packages satisfying one dependency atom 'name[:arch] [(op ver)]' of a package of from_arch."""
        m = re.match(r'\s*([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?', spec)
        if not m:
            return []
        name, qual = m.group(1), m.group(2)
        want = from_arch if from_arch != 'all' else NATIVE_ARCH
        if qual and qual != 'any':
            want = qual
        hits = []
        for key in self.by_name.get(name, []):
            arch, ma = key[1], self.pkgs[key]['ma']
            if arch in (want, 'all') or ma == 'foreign' or (qual == 'any' and ma == 'allowed'):
                hits.append(key)
        if not hits:
            for key in self.providers.get(name, []):
                if key[1] in (want, 'all') or self.pkgs[key]['ma'] == 'foreign' or qual == 'any':
                    hits.append(key)
        return hits

    def closure(self, roots):
        todo, seen, missing = [], {}, []
        for r in roots:
            name, _, arch = r.partition(':')
            keys = self.lookup(f'{name}:{arch}' if arch else name, arch or NATIVE_ARCH)
            if not keys:
                missing.append(r)
            for k in keys:
                if k not in seen:
                    seen[k] = f'setup script ({r})'
                    todo.append(k)
        for k, v in self.pkgs.items():
            if v['essential'] and k not in seen:
                seen[k] = 'Essential'
                todo.append(k)
        while todo:
            k = todo.pop()
            for group in filter(None, (g.strip() for g in self.pkgs[k]['deps'].split(','))):
                for alt in group.split('|'):
                    for d in self.lookup(alt, k[1]):
                        if d not in seen:
                            seen[d] = f'{k[0]}:{k[1]}'
                            todo.append(d)
        return seen, missing


def owners(paths):
    """path -> [package:arch ...] via one `dpkg -S` call (usr-merge aliases tried too)."""
    cands = {}
    for p in paths:
        alts = [p]
        for a, b in (('/usr/lib/', '/lib/'), ('/usr/bin/', '/bin/'), ('/usr/sbin/', '/sbin/'), ('/lib64/', '/usr/lib64/')):
            if p.startswith(a):
                alts.append(b + p[len(a):])
            elif p.startswith(b):
                alts.append(a + p[len(b):])
        d = os.path.dirname(p)
        if os.path.isdir(d):   # a symlinked directory on the way (e.g. /usr/lib/gcc-cross/... -> ...)
            alts.append(os.path.join(os.path.realpath(d), os.path.basename(p)))
        cands[p] = list(dict.fromkeys(alts))
    allq = sorted({a for v in cands.values() for a in v})
    found = {}
    for i in range(0, len(allq), 200):
        out = subprocess.run(['dpkg', '-S'] + allq[i:i + 200], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith(('diversion by', 'local diversion')):
                continue
            pk, sep, path = line.partition(': ')
            if sep:
                found.setdefault(path.strip(), []).extend(x.strip() for x in pk.split(','))
    res = {}
    for p, alts in cands.items():
        pk = []
        for a in alts:
            pk += found.get(a, [])
        res[p] = list(dict.fromkeys(pk))
    return res


def make_deps(path):
    """Prerequisites listed in a make-format dependency file."""
    try:
        text = open(path, encoding='utf-8', errors='replace').read().replace('\\\n', ' ')
    except OSError:
        return []
    deps = []
    for line in text.splitlines():
        head, sep, tail = line.partition(': ')
        if not sep:
            head, sep, tail = line.partition(':')
            if not sep or not tail.strip():
                continue
        deps += tail.split()
    return deps


def outside(path, build):
    """Absolute, normalised path if it is outside the repository (files in it are ours), else None. A file in the
    build directory that is a symlink out of it (e.g. build-*/espeak-inc/espeak-ng) counts as its target."""
    p = path if os.path.isabs(path) else os.path.join(REPO, path)
    p = os.path.normpath(p)
    if p.startswith(REPO + os.sep):
        real = os.path.realpath(p)
        if real.startswith(REPO + os.sep) or not os.path.exists(p):
            return None
        return real
    return p


def files_with_target(p):
    """The path itself and, when it is (or goes through) a symlink, the file it resolves to: both are read.
    A link managed by update-alternatives (/usr/bin/cc -> /etc/alternatives/cc -> ...) belongs to no package:
    only its target counts."""
    out = [] if os.path.islink(p) and os.readlink(p).startswith('/etc/alternatives/') else [p]
    r = os.path.realpath(p)
    if r != p:
        out.append(r)
    return out


def runtime_libs(binary, run):
    """(name, path) of every shared library the binary loads, by the real dynamic loader (ldd or under qemu)."""
    if run:
        cmd = run.split() + ['-E', 'LD_TRACE_LOADED_OBJECTS=1', binary]
    else:
        cmd = ['ldd', binary]
    out = subprocess.run(cmd, capture_output=True, text=True)
    libs, bad = [], []
    for line in (out.stdout + out.stderr).splitlines():
        m = re.match(r'\s*(\S+)\s+=>\s+not found', line)
        if m:
            bad.append(m.group(1))
            continue
        m = re.match(r'\s*(\S+)\s+=>\s+(\S+)\s+\(0x', line) or re.match(r'\s*(/\S+)\s+\(0x', line)
        if m:
            path = m.group(2) if m.lastindex == 2 else m.group(1)
            libs.append(path)
    if out.returncode != 0 and not libs:
        bad.append(f'(loader listing failed: {" ".join(cmd)}: exit {out.returncode})')
    return libs, bad


def check(label, reads, allowed, pk_of):
    """reads: path -> set of readers. Returns the number of failures (printed)."""
    fails = 0
    for path in sorted(reads):
        pk = pk_of.get(path, [])
        who = ', '.join(sorted(reads[path])[:2]) + (' ...' if len(reads[path]) > 2 else '')
        if not pk:
            print(f'FAIL {label}: {path} (read by {who}) belongs to no Debian package')
            fails += 1
            continue
        if not any(k in allowed for k in pk):
            print(f'FAIL {label}: {path} (read by {who}) comes from {", ".join(pk)}, which '
                  f'ports/setup-debian.sh neither installs nor reaches through Depends')
            fails += 1
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--setup', default='ports/setup-debian.sh', help='setup script (default ports/setup-debian.sh)')
    ap.add_argument('--run', action='append', default=[], metavar='BUILD=CMD',
                    help='run command (qemu) for the binaries of a cross build directory')
    ap.add_argument('--port', action='append', default=[], help='cross build directory build-PORT, run under qemu')
    ap.add_argument('builds', nargs='*')
    a = ap.parse_args()
    runs = dict(r.split('=', 1) for r in a.run)
    for port in a.port:
        q = subprocess.run(['make', '-s', '--no-print-directory', f'PORT={port}', 'print-QEMU'], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
        a.builds.append(f'build-{port}')
        runs[f'build-{port}'] = q
    if not a.builds:
        a.builds = ['build']

    roots = setup_packages(a.setup)
    db = Dpkg()
    seen, missing = db.closure(roots)

    def allowed_keys():
        s = set()
        for (n, arch) in seen:
            s.add(f'{n}:{arch}')
            if arch in (NATIVE_ARCH, 'all'):
                s.add(n)      # dpkg -S names native/arch-all packages without a qualifier
        return s
    allowed = allowed_keys()
    print(f'setup script: {len(roots)} packages; closure over Depends/Pre-Depends (+ Essential): {len(seen)}')
    p = f = 0
    for r in missing:
        print(f'FAIL setup script names {r}, which is not installed here (run: sh {a.setup})')
        f += 1

    jobs = []   # (label, reads)
    for b in a.builds:
        reads = {}
        if not os.path.isdir(b):
            print(f'FAIL {b}: no such build directory (build it first)')
            f += 1
            continue
        n_d = n_ld = 0
        for d in glob.glob(os.path.join(b, '**', '*.d'), recursive=True):
            is_link = d.endswith('.link.d')
            n_ld += is_link
            n_d += not is_link
            rel = os.path.relpath(d, b)
            for dep in make_deps(d):
                p_out = outside(dep, b)
                if p_out:
                    for q in files_with_target(p_out):
                        reads.setdefault(q, set()).add(rel[:-2])
        bins = [x for x in sorted(glob.glob(os.path.join(b, '*'))) if os.path.isfile(x) and os.access(x, os.X_OK)
                and open(x, 'rb').read(4) == b'\x7fELF' and '.so' not in os.path.basename(x)]
        n_rt = 0
        for x in bins:
            libs, bad = runtime_libs(x, runs.get(b))
            for nm in bad:
                print(f'FAIL {b}: {os.path.basename(x)} needs {nm}: not found by the dynamic loader')
                f += 1
            for lib in libs:
                lib = os.path.normpath(lib)
                if lib.startswith(REPO + os.sep):
                    continue
                n_rt += 1
                for q in files_with_target(lib):
                    reads.setdefault(q, set()).add(os.path.basename(x) + ' (run time)')
        if n_d == 0 or n_ld == 0 or not bins:
            print(f'FAIL {b}: {n_d} compiler and {n_ld} linker dependency files, {len(bins)} binaries: '
                  'build with the current Makefile (-MD, -Wl,--dependency-file)')
            f += 1
        print(f'{b}: {n_d} compiler + {n_ld} linker dependency files, {len(bins)} binaries '
              f'({n_rt} run-time libraries): {len(reads)} files from outside the repository')
        jobs.append((b, reads))

    reads = {}
    for t in TOOLS:
        w = t if os.path.isabs(t) else shutil.which(t)
        if w and os.path.exists(w):
            for q in files_with_target(os.path.normpath(w)):
                reads.setdefault(q, set()).add(t)
    jobs.append(('tools', reads))

    pk_of = owners(sorted({q for _, r in jobs for q in r}))
    for label, r in jobs:
        n = check(label, r, allowed, pk_of)
        if n:
            f += 1
        else:
            pkgs = sorted({k for q in r for k in pk_of.get(q, [])})
            print(f'ok   {label}: {len(r)} files, all from the setup closure ({len(pkgs)} packages: '
                  f'{" ".join(pkgs[:12])}{" ..." if len(pkgs) > 12 else ""})')
            p += 1
    print(f'{p} passed, {f} failed, 0 skipped')
    return 1 if f else 0


if __name__ == '__main__':
    sys.exit(main())
