#!/usr/bin/env python3
"""README.md's worked examples against this build.

Every fenced block of README.md whose commands all start with `$ ` and run
something of this repository (build/..., scripts/plot, scripts/sweep), a
plain file tool (cat, head, grep, sed, cut) or a shell loop is run, command after command, in
a scratch directory that sees the repository's configs/, traces/, scripts/
and the build as build/. Each line the README shows after a command must
appear in that command's output (stdout and stderr), in the same order;
`...` stands for lines left out, and lines that depend on the host (speed,
wall clock, seconds taken) are not compared.

Usage: test_readme_examples.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

TOOLS = ("build/", "scripts/plot", "scripts/sweep", "cat ", "head ", "grep ", "sed ", "cut ",
         "for ")
HOST_DEPENDENT = re.compile(r"^\s*speed\s|wall clock|\bin [0-9.]+ s\b|\([0-9.]+ s\)$")


def blocks(readme):
    """(first line number, [(line number, command, [shown output])]) per block."""
    out, cur, start, inside = [], [], 0, False
    for n, line in enumerate(readme.split("\n"), 1):
        if line.startswith("```"):
            if inside:
                out.append((start, cur))
                cur = []
            inside, start = not inside, n + 1
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            cur.append([n, line[2:], []])
        elif cur and cur[-1][1] is not None and cur[-1][1].endswith("\\"):
            cur[-1][1] = cur[-1][1][:-1] + " " + line.strip()
        elif cur:
            cur[-1][2].append(line.rstrip())
        else:
            cur.append([n, None, [line]])  # output before any command: not an example
    return out


def runnable(cmds):
    return cmds and all(c is not None and c.startswith(TOOLS) and "--backend slurm" not in c
                        for _, c, _ in cmds)


def main():
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    failures, checked, compared = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="mmusim-readme-") as tmp:
        for name in ("configs", "traces", "scripts"):
            os.symlink(os.path.join(src, name), os.path.join(tmp, name))
        os.symlink(build, os.path.join(tmp, "build"))
        for start, cmds in blocks(readme):
            if not runnable(cmds):
                continue
            checked += 1
            for n, cmd, shown in cmds:
                r = subprocess.run(["bash", "-c", cmd], cwd=tmp, capture_output=True, text=True,
                                   timeout=600, check=False)
                real = [line.rstrip() for line in (r.stdout + r.stderr).split("\n")]
                # An example of an error shows the error.
                if r.returncode != 0 and not any("error:" in x for x in shown):
                    failures.append(f"README.md:{n}: `{cmd}` exited {r.returncode}:\n"
                                    + "\n".join(real[-10:]))
                    break
                pos = 0
                for want in shown:
                    if want.strip() in ("", "...") or HOST_DEPENDENT.search(want):
                        continue
                    compared += 1
                    try:
                        pos = real.index(want, pos) + 1
                    except ValueError:
                        near = [x for x in real if x[:20] == want[:20]]
                        failures.append(f"README.md:{n}: `{cmd}` did not print (in this order):\n"
                                        f"  README: {want}\n  actual: {near[0] if near else '(none alike)'}")
    for f in failures:
        print(f)
    print(f"readme examples: {checked} block(s), {compared} line(s) compared, "
          f"{len(failures)} failure(s)")
    # Guards the parser itself: today's README has more examples than this.
    if checked < 8 or compared < 60:
        print("readme examples: fewer examples found than expected: the parser is broken")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
