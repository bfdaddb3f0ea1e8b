"""Cluster ids for `kafka-storage format` (used by scripts/kafka-cluster).

A KRaft cluster id is 16 random bytes in urlsafe base64 without padding (22
characters), as Kafka's own Uuid.randomUuid() makes them. About 1 id in 64
starts with '-', which the storage formatter's argument parser reads as an
option ("expected one argument"). Kafka's own generator redraws such ids; so
do we, and kafka-cluster also passes the id as `--cluster-id=ID`, which no
parser can misread.

    python3 scripts/lib/kafka_cluster_id.py      # prints one id
"""
import base64
import os
import uuid


def encode(raw: bytes) -> str:
    """The urlsafe base64 form of 16 bytes, padding removed."""
    if len(raw) != 16:
        raise ValueError(f"a cluster id is 16 bytes, got {len(raw)}")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def new_cluster_id(random_bytes=lambda: uuid.uuid4().bytes) -> str:
    """A fresh id that never starts with '-' (redrawn until it does not)."""
    while True:
        cid = encode(random_bytes())
        if not cid.startswith("-"):
            return cid


if __name__ == "__main__":
    print(new_cluster_id())
