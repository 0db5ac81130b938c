"""Confluent's own Python client on the reranker's topics, for ConfluentInteropIT.

  produce  candidates written by Confluent's AvroSerializer (auto-registering the .avsc as given, or the
           same schema with an added optional field: --evolved), keyed by query id; with --header-ids the
           schema id goes in the __value_schema_id header as a GUID (header_schema_id_serializer, Confluent
           8.0's format) instead of the payload prefix, and --unknown-guid N adds N more candidates whose
           header names a GUID no registry holds (their query ids: PREFIX-unknown-I)
  consume  results read by Confluent's AvroDeserializer with read_committed; prints one JSON summary line
  refused  registers an incompatible change of the candidate schema and prints the registry's answer
  lookup   looks the .avsc given up under TOPIC-value, as Confluent's serializers do with
           auto.register.schemas=false, and prints the id the registry answers (or its error)

Every command prints one JSON line on stdout; the Java test reads the last one. No call may hang: the
registry client gets a timeout (its default is none), the consumer's close is bounded, and a process still
alive past its deadline prints every thread's stack and exits 1, so the test reports where it stood.
"""
import argparse
import faulthandler
import json
import os
import sys
import threading
import time

from confluent_kafka import Consumer, Producer
import uuid

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, header_schema_id_serializer
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer


def candidate_schema(path, extra_field=None):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    if extra_field is not None:
        schema["fields"].append(extra_field)
    return json.dumps(schema)


# The evolution case: a producer that moved on to a newer contract with one more optional field. BACKWARD
# compatible (readers of the new schema can read old data), so the registry takes it; the app, still on
# the old reader schema, must read it and drop the field.
EVOLVED_FIELD = {"name": "tenant", "type": ["null", "string"], "default": None,
                 "doc": "Added by a newer producer; unknown to the app's reader schema."}
# Incompatible under BACKWARD: a new field without a default cannot be filled in when reading old data.
INCOMPATIBLE_FIELD = {"name": "required_tenant", "type": "string"}


# confluent-kafka's SchemaRegistryClient passes timeout=None to httpx by default: a request the registry
# never answers would wait forever.
REGISTRY_TIMEOUT_S = 30
# librdkafka's consumer close can block indefinitely (confluent-kafka-python issue 1667); the summary is
# complete before close, so a close that does not return in this time is reported and the process exits.
CLOSE_TIMEOUT_S = 30


def registry_client(args):
    return SchemaRegistryClient({"url": args.registry, "timeout": REGISTRY_TIMEOUT_S})


def close_bounded(consumer):
    closing = threading.Thread(target=consumer.close, daemon=True)
    closing.start()
    closing.join(CLOSE_TIMEOUT_S)
    return not closing.is_alive()


def produce(args):
    registry = registry_client(args)
    schema = candidate_schema(args.schema, EVOLVED_FIELD if args.evolved else None)
    conf = {"auto.register.schemas": True}
    if args.header_ids:
        conf["schema.id.serializer"] = header_schema_id_serializer
    serializer = AvroSerializer(registry, schema, conf=conf)
    keys = StringSerializer("utf_8")
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True})
    sent = 0
    header_values = set()

    def candidate(query_id, q, d):
        value = {
            "query_id": query_id, "query": f"what is interop number {q}",
            "doc_id": f"{query_id}-d{d}", "text": f"passage {d} for query {q} about kafka avro and registries",
            "retrieval_score": None, "retrieval_rank": d + 1, "candidate_count": args.candidates,
            "model": None, "top_k": None, "metadata": {"writer": "confluent-kafka-python"}, "event_time": None,
        }
        if args.evolved:
            value["tenant"] = "tenant-" + str(q % 3)
        headers = []
        payload = serializer(value, SerializationContext(args.topic, MessageField.VALUE, headers))
        return payload, headers

    for q in range(args.queries):
        query_id = f"{args.prefix}{q}"
        for d in range(args.candidates):
            payload, headers = candidate(query_id, q, d)
            header_values.update(v.hex() for k, v in headers if k == "__value_schema_id")
            producer.produce(args.topic, key=keys(query_id), value=payload, headers=headers)
            sent += 1
    for i in range(args.unknown_guid):
        query_id = f"{args.prefix}unknown-{i}"
        payload, headers = candidate(query_id, i, 0)
        # The same bare Avro bytes, but the header names a GUID that no registry holds.
        unknown = [(k, bytes([1]) + uuid.uuid4().bytes) if k == "__value_schema_id" else (k, v) for k, v in headers]
        producer.produce(args.topic, key=keys(query_id), value=payload, headers=unknown)
    remaining = producer.flush(60)
    if remaining:
        raise SystemExit(f"{remaining} candidates not delivered within 60 s")
    subject = f"{args.topic}-value"
    latest = registry.get_latest_version(subject)
    print(json.dumps({"sent": sent, "subject": subject, "schema_id": latest.schema_id, "version": latest.version,
                      "guid": latest.guid, "schema_id_headers": sorted(header_values)}))


def consume(args):
    registry = registry_client(args)
    deserializer = AvroDeserializer(registry)
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"confluent-python-{args.topic}",
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "enable.auto.commit": False})
    consumer.subscribe([args.topic])
    per_query = {}
    docs = set()
    schema_ids = set()
    errors = []
    deadline = time.monotonic() + args.timeout
    last_news = time.monotonic()
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            if len(per_query) >= args.expect and time.monotonic() - last_news > args.quiet:
                break
            continue
        if msg.error():
            errors.append(str(msg.error()))
            continue
        last_news = time.monotonic()
        raw = msg.value()
        schema_ids.add(int.from_bytes(raw[1:5], "big"))
        result = deserializer(raw, SerializationContext(args.topic, MessageField.VALUE))
        per_query[result["query_id"]] = per_query.get(result["query_id"], 0) + 1
        for doc in result["results"]:
            docs.add(doc["doc_id"])
    summary = json.dumps({"queries": len(per_query), "results": sum(per_query.values()),
                          "queries_with_more_than_one_result": sum(1 for c in per_query.values() if c > 1),
                          "candidates_in_results": len(docs), "result_schema_ids": sorted(schema_ids), "errors": errors})
    if close_bounded(consumer):
        print(summary, flush=True)
        return
    # The read is over and its summary stands; only librdkafka's teardown is stuck. Interpreter exit would
    # wait on the same native threads, so leave at once.
    print(f"consumer.close() did not return within {CLOSE_TIMEOUT_S} s; exiting without it", file=sys.stderr, flush=True)
    print(summary, flush=True)
    os._exit(0)


def refused(args):
    registry = registry_client(args)
    schema = candidate_schema(args.schema, INCOMPATIBLE_FIELD)
    try:
        schema_id = registry.register_schema(f"{args.topic}-value", Schema(schema, "AVRO"))
        print(json.dumps({"status": 200, "schema_id": schema_id}))
    except SchemaRegistryError as e:
        print(json.dumps({"status": e.http_status_code, "error_code": e.error_code, "message": e.error_message}))


def lookup(args):
    registry = registry_client(args)
    with open(args.schema, encoding="utf-8") as f:
        schema = f.read()
    try:
        found = registry.lookup_schema(f"{args.topic}-value", Schema(schema, "AVRO"))
        print(json.dumps({"status": 200, "schema_id": found.schema_id, "version": found.version}))
    except SchemaRegistryError as e:
        print(json.dumps({"status": e.http_status_code, "error_code": e.error_code, "message": e.error_message}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["produce", "consume", "refused", "lookup"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True, help="Confluent-compatible URL (Apicurio: .../apis/ccompat/v7)")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--schema", help="an .avsc file (RetrievalCandidate.avsc for produce and refused)")
    parser.add_argument("--prefix", default="py-q")
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--evolved", action="store_true")
    parser.add_argument("--header-ids", action="store_true", help="schema ids as GUIDs in the __value_schema_id header")
    parser.add_argument("--unknown-guid", type=int, default=0, help="extra candidates whose header names an unknown GUID")
    parser.add_argument("--expect", type=int, default=0, help="queries to wait for")
    parser.add_argument("--quiet", type=float, default=5.0, help="seconds without news before stopping")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--deadline", type=float, default=280.0,
                        help="seconds after which the process prints every thread's stack and exits 1")
    args = parser.parse_args()
    faulthandler.dump_traceback_later(args.deadline, exit=True)
    {"produce": produce, "consume": consume, "refused": refused, "lookup": lookup}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
