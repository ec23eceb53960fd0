"""The prototype's ingest, as the benchmark's baseline: pandas.read_html on
both pages, then every row to Kinesis with boto3 put_records (batches of
500, random partition keys), on every call, whether the page changed or not.
"""
import json
import sys
import uuid

import boto3
import pandas as pd


def push(client, stream, frame):
    rows = [json.dumps(row, default=str) for row in frame.to_dict(orient="records")]
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        client.put_records(
            StreamName=stream,
            Records=[{"Data": data.encode(), "PartitionKey": str(uuid.uuid4())} for data in batch],
        )
    return len(rows)


def main():
    endpoint, products_url, vendors_url, products_stream, vendors_stream = sys.argv[1:6]
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    pushed = 0
    for url, stream in ((products_url, products_stream), (vendors_url, vendors_stream)):
        frame = pd.read_html(url)[0]
        pushed += push(client, stream, frame)
    print(pushed)


if __name__ == "__main__":
    main()
