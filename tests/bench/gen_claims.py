#!/usr/bin/python3
"""Writes a claims CSV for scripts/bench: deterministic (fixed seed).

    gen_claims.py ROWS OUT [--seed N] [--prefix ZB] [--wide]

Claim numbers are PREFIX + 8 digits: distinct, and never one of the
simulator's forced prefixes (ERR, RL, SLOW, BADJSON, ...), so every row
gets an ordinary answer (its status picked by the claim number's hash).
--wide adds a column the upload keeps as an "extra" column (a service
date), so 150,000 rows make about 9.6 MB: close to the 10 MiB upload
limit, the size of the largest files the system we replace received.
"""
import argparse
import random
import sys

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer",
         "Michael", "Linda", "William", "Elizabeth", "David", "Barbara",
         "Christopher", "Alexandria", "Maximilian", "Guadalupe"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
        "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez",
        "Montgomery-Clarke", "Vanderbilt", "Nakamura", "O'Sullivan"]
FORCED = ("ERR", "RL", "SLOW", "BADJSON", "MISMATCH", "NOTFOUND", "DENY",
          "E401", "BUSY", "BADREQ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--prefix", default="ZB")
    ap.add_argument("--wide", action="store_true")
    a = ap.parse_args()
    if a.prefix.startswith(FORCED):
        sys.exit("gen_claims.py: prefix %r forces a simulator behaviour"
                 % a.prefix)
    rnd = random.Random(a.seed)
    head = "claim_number,first_name,last_name,date_of_birth,subscriber_id"
    if a.wide:
        head += ",service_date"
    out = [head]
    for i in range(1, a.rows + 1):
        row = "%s%08d,%s,%s,%04d-%02d-%02d,%s%09d" % (
            a.prefix, i, rnd.choice(FIRST), rnd.choice(LAST),
            rnd.randint(1930, 2020), rnd.randint(1, 12), rnd.randint(1, 28),
            rnd.choice(("UHC", "MBR", "SUB")), rnd.randrange(10 ** 9))
        if a.wide:
            row += ",2025-%02d-%02d" % (rnd.randint(1, 12),
                                        rnd.randint(1, 28))
        out.append(row)
    with open(a.out, "w", newline="") as f:
        f.write("\r\n".join(out) + "\r\n")


if __name__ == "__main__":
    main()
