"""Motion blocks, one file per family, registered in MMAction2's MODELS."""
