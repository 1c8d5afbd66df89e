"""Summarise a py-spy raw profile written by `BENCH_PROFILE=1 bench/run`:
`.venv/bin/python bench/profile_summary.py build/bench/profile-page.txt [--top 30] [--match checkie/]`

Only samples taken inside a request (a stack through Flask.wsgi_app) count, idle threads
included (py-spy --idle), so the shares are of the wall time requests spend: waiting on
PostgreSQL or Redis shows up as time in psycopg / redis. Prints the frames with the largest
inclusive share (matching --match, default Checkie's own code and a few libraries) and the
leaf frames (where the time is actually spent).
"""
from __future__ import annotations

import argparse
import re
from collections import Counter

_LOCATION = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+):\d+\)$")


def _short(frame: str) -> str:
    """'fn (path/to/file.py:123)' → 'path/to/file.py:fn' (without the line, so lines merge)."""
    match = _LOCATION.match(frame)
    return f"{match['file']}:{match['func']}" if match else frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default=r"^(checkie/|sqlalchemy/orm/session|psycopg/|redis/|jinja2/environment|"
                                           r"flask_wtf/|flask_limiter/|wtforms/|flask/sessions|werkzeug/)")
    args = parser.parse_args()
    pattern = re.compile(args.match)
    inclusive, leaves = Counter(), Counter()
    in_request = total = 0
    with open(args.profile) as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = [_short(f) for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            if not any(f.endswith(":Flask.wsgi_app") for f in frames):
                continue
            in_request += samples
            for frame in set(frames):
                if pattern.search(frame):
                    inclusive[frame] += samples
            leaves[frames[-1]] += samples
    if not in_request:
        print("no samples inside a request")
        return
    print(f"{in_request} of {total} samples inside a request (wall time of busy request threads)\n")
    print("inclusive share (frame and everything it calls):")
    for frame, samples in inclusive.most_common(args.top):
        print(f"  {100 * samples / in_request:5.1f}%  {frame}")
    print("\nleaf share (where the time is spent):")
    for frame, samples in leaves.most_common(args.top):
        print(f"  {100 * samples / in_request:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
