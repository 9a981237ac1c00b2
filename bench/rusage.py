#!/usr/bin/python3
"""Runs a command and writes its CPU seconds (user + sys), wall seconds and max RSS (KiB) to a file,
as "CPU WALL RSS" on one line. The kernel's rusage gives microseconds, where /usr/bin/time prints
hundredths of a second: a 0.09 s analyzer run would be quantized in steps of 11 %.

    bench/rusage.py -o OUT_FILE COMMAND [ARGS...]

stdin, stdout and stderr are the command's own. Exits with the command's status (128 + signal).
"""
import os
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[1] != "-o":
        print("rusage.py: usage: rusage.py -o OUT_FILE COMMAND [ARGS...]", file=sys.stderr)
        return 2
    out, cmd = sys.argv[2], sys.argv[3:]
    start = time.monotonic()
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    except OSError as e:
        print(f"rusage.py: cannot run {cmd[0]}: {e.strerror}", file=sys.stderr)
        return 127
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - start
    with open(out, "w") as f:
        f.write(f"{ru.ru_utime + ru.ru_stime:.6f} {wall:.6f} {ru.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
