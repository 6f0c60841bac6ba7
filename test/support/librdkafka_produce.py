"""Publishes records with librdkafka (Debian's python3-confluent-kafka), as most non-Node
SIS producers do, and reports the partition each one landed in.

    librdkafka_produce.py BROKERS TOPIC [PARTITIONER]

Reads one JSON object per line on stdin: {"key": "<text>", "value": "<base64>"}. Produces
them in order with an idempotent producer (acks=all), keyed by `key`; PARTITIONER is
librdkafka's `partitioner` setting (omitted: librdkafka's default, consistent_random).
Prints one JSON object per record, in input order, once all are acknowledged:
{"key": ..., "partition": ..., "offset": ...}. Exits 1 when any record was not delivered.
"""
import base64
import json
import sys

from confluent_kafka import Producer


def main():
    brokers, topic = sys.argv[1], sys.argv[2]
    config = {"bootstrap.servers": brokers, "enable.idempotence": True, "acks": "all"}
    if len(sys.argv) > 3 and sys.argv[3] != "":
        config["partitioner"] = sys.argv[3]
    producer = Producer(config)
    records = [json.loads(line) for line in sys.stdin if line.strip() != ""]
    delivered = [None] * len(records)
    failures = []

    def report(index):
        def on_delivery(err, msg):
            if err is not None:
                failures.append("record %d: %s" % (index, err))
            else:
                delivered[index] = {"key": records[index]["key"], "partition": msg.partition(), "offset": msg.offset()}
        return on_delivery

    for index, record in enumerate(records):
        while True:
            try:
                producer.produce(topic, key=record["key"].encode("utf-8"), value=base64.b64decode(record["value"]), on_delivery=report(index))
                break
            except BufferError:
                producer.poll(0.1)  # the local queue is full: let deliveries drain
        producer.poll(0)
    left = producer.flush(60)
    if left > 0:
        failures.append("%d records still unacknowledged after 60 s" % left)
    if failures:
        sys.stderr.write("\n".join(failures[:20]) + "\n")
        sys.exit(1)
    for d in delivered:
        sys.stdout.write(json.dumps(d) + "\n")


if __name__ == "__main__":
    main()
