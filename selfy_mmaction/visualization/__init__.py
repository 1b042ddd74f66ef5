"""Figures of what the models compute. :mod:`.stss`: the space-time
self-similarity a SELFY block sees (``tools/visualize_stss.py``)."""
