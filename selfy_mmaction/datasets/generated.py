"""What the generated datasets (motion, motion suite, tracklets) share: a
``spec.json`` that says which spec the files on disk were made from, and
generation on first use under a file lock (one process generates, the
others wait)."""

import fcntl
import json
import os
import os.path as osp
from dataclasses import asdict
from typing import Any, Callable


def spec_is_current(root: str, spec: Any) -> bool:
    """Whether ``root/spec.json`` holds the dataclass ``spec``."""
    path = osp.join(root, 'spec.json')
    if not osp.exists(path):
        return False
    with open(path) as f:
        return json.load(f) == json.loads(json.dumps(asdict(spec)))


def write_spec(root: str, spec: Any):
    """Record ``spec`` in ``root/spec.json`` (after the files are written)."""
    with open(osp.join(root, 'spec.json'), 'w') as f:
        json.dump(asdict(spec), f, indent=1)


def generate_on_first_use(
    ann_file: str, generate: Callable[[str, Any], Any], spec: Any
) -> str:
    """``generate(root, spec)`` into the directory of ``ann_file`` under
    ``root/.lock``; returns ``root``."""
    root = osp.dirname(ann_file) or '.'
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        generate(root, spec)
    return root
