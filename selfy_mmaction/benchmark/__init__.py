"""Benchmarks. :mod:`.zoo`: every zoo model trained and tested on the motion
dataset with one shared recipe (``tools/benchmark_zoo.py``)."""
