"""The scheduler: framework, node snapshot, plugins and the pure scheduling cycle.

`schedule_one(snapshot, pod, profile, rng)` is the whole Filter/Score decision for one
pod; the queue and the API-facing loop are built on top of it.
"""
