#!/usr/bin/python3
"""Smoke test of tenantpulse's Kinesis API with boto3 (Debian's python3-boto3).

    /usr/bin/python3 smoke.py http://127.0.0.1:PORT

Puts records (PutRecord and PutRecords), reads every shard from TRIM_HORIZON
and checks each record comes back byte for byte with the shard and sequence
number it was acknowledged with. Exits non-zero on any mismatch.
"""

import os
import sys
import time

import boto3
from botocore.config import Config


def fail(msg):
    print(f"py smoke FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2 or not sys.argv[1].startswith("http://"):
        print("usage: smoke.py http://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    client = boto3.client(
        "kinesis",
        endpoint_url=sys.argv[1],
        region_name="us-west-2",
        aws_access_key_id="AKIDPYSMOKE",
        aws_secret_access_key="py-smoke-secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30),
    )
    stream = f"py-smoke-{os.getpid()}"
    client.create_stream(StreamName=stream, ShardCount=2)
    for _ in range(100):
        s = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    else:
        fail(f"stream {stream} is not ACTIVE")

    put = {}  # (shard id, sequence number) -> (partition key, data)

    def remember(shard, seq, key, data):
        if not shard or not seq:
            fail(f"a put was acknowledged without a shard or sequence number: {shard!r} {seq!r}")
        if (shard, seq) in put:
            fail(f"sequence number {shard}/{seq} was given twice")
        put[(shard, seq)] = (key, data)

    one = "héllo from boto3".encode()
    r = client.put_record(StreamName=stream, PartitionKey="tenant-py", Data=one)
    remember(r["ShardId"], r["SequenceNumber"], "tenant-py", one)

    batch = [
        {"PartitionKey": f"tenant-{i % 11}", "Data": bytes((i * 29 + j * 5) & 0xFF for j in range(1 + (i * 53) % 400))}
        for i in range(40)
    ]
    rs = client.put_records(StreamName=stream, Records=batch)
    if rs["FailedRecordCount"] != 0:
        fail(f"PutRecords: {rs['FailedRecordCount']} records failed: {rs['Records']}")
    if len(rs["Records"]) != len(batch):
        fail(f"PutRecords: {len(rs['Records'])} results for {len(batch)} records")
    for rec, res in zip(batch, rs["Records"]):
        remember(res["ShardId"], res["SequenceNumber"], rec["PartitionKey"], rec["Data"])

    shards = client.list_shards(StreamName=stream)["Shards"]
    if len(shards) != 2:
        fail(f"ListShards: {len(shards)} shards, want 2")
    got = 0
    for sh in shards:
        sid = sh["ShardId"]
        it = client.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        prev = ""
        for _ in range(1000):
            out = client.get_records(ShardIterator=it)
            for rec in out["Records"]:
                k = (sid, rec["SequenceNumber"])
                if k not in put:
                    fail(f"GetRecords returned {sid}/{rec['SequenceNumber']}, which was never put")
                key, data = put.pop(k)
                if rec["PartitionKey"] != key:
                    fail(f"{k}: partition key {rec['PartitionKey']!r}, want {key!r}")
                if rec["Data"] != data:
                    fail(f"{k}: data {rec['Data'].hex()}, want {data.hex()}")
                if rec["SequenceNumber"] <= prev:
                    fail(f"{k}: sequence numbers do not increase ({prev} then {rec['SequenceNumber']})")
                prev = rec["SequenceNumber"]
                got += 1
            it = out["NextShardIterator"]
            if not out["Records"] and out["MillisBehindLatest"] == 0:
                break
        else:
            fail(f"shard {sid}: GetRecords never caught up")
    if put:
        fail(f"{len(put)} acknowledged records were not read back: {sorted(put)}")
    print(f"py smoke: {got} records put and read back with boto3 {boto3.__version__}")


if __name__ == "__main__":
    main()
