"""Model zoo publishing. :mod:`.publish`: evaluate, strip, hash-name a
trained model and record it in MMAction2's metafiles and model index
(``tools/publish_model.py``); :mod:`.tables`: the README tables rendered from
the metafiles (``tools/zoo_tables.py``)."""
