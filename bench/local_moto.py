"""CPU cost of the local runtime's DynamoDB (moto) per item operation, with and without
`infra.local.moto_dynamodb`'s direct JSON answers, and with `infra.local.moto_queries`'
kept partition index on top (`indexed`).

Each variant runs in a fresh interpreter that starts moto's server in-process (as the
local runtime does), fills the single table with user-like items, then times a fixed mix
of GetItem, PutItem, UpdateItem, index Query and TransactWriteItems over HTTP. The figure
is the process's CPU time (client and server together; the same client work in both
variants), which a loaded machine changes far less than wall time.

    python bench/local_moto.py [--items 3000] [--rounds 300] [--variants direct,indexed]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, logging, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/layers/core"]
variant, items, rounds, port = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
from infra.local import moto_dynamodb
if variant in ("direct", "indexed"):
    moto_dynamodb.install()
    if variant == "indexed":
        from infra.local import moto_queries
        moto_queries.install()
else:
    moto_dynamodb.DynamoDBBackend.transact_write_items = moto_dynamodb.transact_write_items
import boto3
from moto.server import ThreadedMotoServer
from portcullis.store.schema import table_definition
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
db = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                  aws_access_key_id="x", aws_secret_access_key="x")
db.create_table(**table_definition("t", stream=False))

def user(n):
    return {"pk": {"S": f"T#t{n % 20}"}, "sk": {"S": f"USER#{n:08d}"},
            "gsi1pk": {"S": f"EMAIL#t{n % 20}#user{n}@example.com"}, "gsi1sk": {"S": "U"},
            "gsi2pk": {"S": f"UUID#{n:032x}"}, "gsi2sk": {"S": "U"},
            "email": {"S": f"user{n}@example.com"}, "name": {"S": f"User {n}"},
            "data": {"M": {"plan": {"S": "gold"}, "n": {"N": str(n)}}},
            "roles": {"SS": ["admin", "member"]}, "hash": {"B": b"x" * 48},
            "createdAt": {"S": "2026-12-07T00:00:00.000Z"}, "n": {"N": str(n)}}

for n in range(items):
    db.put_item(TableName="t", Item=user(n))
start = time.process_time()
for r in range(rounds):
    n = r * 7 % items
    key = {"pk": user(n)["pk"], "sk": user(n)["sk"]}
    db.get_item(TableName="t", Key=key)
    db.query(TableName="t", IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
             ExpressionAttributeValues={":p": user(n)["gsi1pk"]})
    db.query(TableName="t", KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
             ExpressionAttributeValues={":p": user(n)["pk"], ":s": {"S": "USER#"}}, Limit=25)
    db.update_item(TableName="t", Key=key, UpdateExpression="ADD n :one",
                   ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")
    db.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": user(items + r)}},
        {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "SET #v = :v",
                    "ExpressionAttributeNames": {"#v": "seen"},
                    "ExpressionAttributeValues": {":v": {"S": "yes"}}}}])
print(json.dumps({"cpu": time.process_time() - start}))
server.stop()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(variant: str, items: int, rounds: int) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(ROOT),
            variant,
            str(items),
            str(rounds),
            str(_free_port()),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["cpu"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", default="shape-serialiser,direct,indexed")
    args = parser.parse_args()
    calls = args.rounds * 5
    print(f"{args.items} items, {args.rounds} rounds of 5 calls ({calls} calls), CPU seconds")
    print("| variant | runs (CPU s) | best | ms CPU per call |")
    print("|---|---|---:|---:|")
    for variant in args.variants.split(","):
        runs = [run(variant, args.items, args.rounds) for _ in range(args.repeat)]
        best = min(runs)
        shown = ", ".join(f"{r:.2f}" for r in runs)
        print(f"| {variant} | {shown} | {best:.2f} | {1000 * best / calls:.2f} |")


if __name__ == "__main__":
    main()
