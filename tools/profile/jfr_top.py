"""Aggregates `jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample` output: top frames,
first project frames, threads, and the frames found anywhere on the sampled stacks (a flame graph's
widest bars), so a profile can be read without a flame-graph viewer.

Usage: jfr print --events jdk.ExecutionSample --stack-depth 64 rec.jfr | python3 jfr_top.py [N] [--thread TEXT]
  --thread TEXT  only samples of threads whose name contains TEXT (say, one application id's stream threads)
"""
import argparse
import collections
import re
import sys


def events(lines):
    event = None
    for line in lines:
        if re.match(r"^jdk\.\w+ \{", line):
            event = {"type": line.split()[0], "thread": "?", "frames": []}
        elif event is not None:
            m = re.match(r'\s+sampledThread = "([^"]*)"', line)
            if m:
                event["thread"] = m.group(1)
            m = re.match(r"\s+([\w$.<>]+\.[\w$<>]+)\(", line)
            if m and "stackTrace" not in line:
                event["frames"].append(m.group(1))
            if line.startswith("}"):
                yield event
                event = None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=15)
    parser.add_argument("--thread", default="")
    args = parser.parse_args()
    n = args.n
    top, project, threads, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
    anywhere = collections.Counter()
    for e in events(sys.stdin):
        if args.thread not in e["thread"]:
            continue
        total += 1
        frames = e["frames"]
        top[frames[0] if frames else "?"] += 1
        project[next((f for f in frames if f.startswith("dev.kafkareranker")), "(no project frame)")] += 1
        threads[re.sub(r"\d+", "N", e["thread"])] += 1
        # Once per sample however often a frame recurs on its stack: the share of time spent under it.
        anywhere.update(set(frames))
    for title, counter in (("top frame", top), ("first project frame", project), ("thread", threads),
                           ("anywhere on the stack", anywhere)):
        print(f"\n{title} ({total} samples)")
        for name, count in counter.most_common(n):
            print(f"{count:6d} {100.0 * count / max(total, 1):5.1f}%  {name}")


if __name__ == "__main__":
    main()
