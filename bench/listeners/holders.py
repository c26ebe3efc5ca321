#!/usr/bin/env python3
"""Python holders for scripts/bench-listeners.sh: the Go harness
(bench/listeners/main.go) with another runtime.

    holders.py -n 10000 -p 100 [-conns 0] [-cgroup DIR] <fifo

Starts -p python3 children one after another; together they hold -n TCP
listeners on 127.0.0.1 and -conns established loopback pairs. Prints, on one
line, a listening port held by the oldest, the middle and the newest child,
then waits until stdin closes (or -timeout seconds pass), and stops the
children. With -cgroup DIR, child i first moves itself into the cgroup v2
directory DIR/hI, which the caller made.
"""
import argparse
import os
import select
import socket
import subprocess
import sys


def child(n, conns, cgroup, timeout):
    if cgroup:
        # A socket belongs to the cgroup of the process that made it.
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write("0\n")
    keep, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        keep.append(s)
        ports.append(s.getsockname()[1])
    if conns:
        srv = keep[0]
        for _ in range(conns):
            c = socket.create_connection(srv.getsockname())
            a, _ = srv.accept()
            keep += [c, a]
    print(ports[len(ports) // 2], flush=True)
    wait_stdin(timeout)
    for s in keep:
        s.close()
    return 0


def wait_stdin(timeout):
    """Returns when stdin reaches end of file or after timeout seconds."""
    fd = sys.stdin.fileno()
    while True:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r or not os.read(fd, 4096):
            return


def parent(n, p, conns, cgroup, timeout):
    if p < 1 or n < p:
        print("holders.py: need -n >= -p >= 1", file=sys.stderr)
        return 2
    kids, ports = [], []
    try:
        for i in range(p):
            ni = n // p + (1 if i < n % p else 0)
            ci = conns // p + (1 if i < conns % p else 0)
            args = [sys.executable, os.path.abspath(__file__), "-child", "-n", str(ni),
                    "-conns", str(ci), "-timeout", str(timeout)]
            if cgroup:
                args += ["-cgroup", os.path.join(cgroup, "h%d" % i)]
            k = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            kids.append(k)
            line = k.stdout.readline()
            if not line:
                print("holders.py: child failed", file=sys.stderr)
                return 1
            ports.append(int(line))
        print(ports[0], ports[p // 2], ports[p - 1], flush=True)
        wait_stdin(timeout)
        return 0
    finally:
        for k in kids:
            k.stdin.close()
        for k in kids:
            k.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-p", type=int, default=100)
    ap.add_argument("-conns", type=int, default=0)
    ap.add_argument("-cgroup", default="")
    ap.add_argument("-timeout", type=float, default=1800)
    ap.add_argument("-child", action="store_true")
    a = ap.parse_args()
    if a.child:
        return child(a.n, a.conns, a.cgroup, a.timeout)
    return parent(a.n, a.p, a.conns, a.cgroup, a.timeout)


if __name__ == "__main__":
    sys.exit(main())
