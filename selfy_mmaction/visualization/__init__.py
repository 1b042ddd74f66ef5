"""Figures of what the models compute and of the data they see.
:mod:`.stss`: the space-time self-similarity a SELFY block sees
(``tools/visualize_stss.py``); :mod:`.strips`: class strips of the generated
datasets (``tools/visualize_motion_dataset.py``, :func:`.draw_suite_strip`).
"""
