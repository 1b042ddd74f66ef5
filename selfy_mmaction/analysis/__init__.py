"""Analysis of models. :mod:`.complexity`: FLOPs and parameters of one clip
(``from selfy_mmaction.analysis.complexity import complexity``);
:mod:`.paper_numbers`: the numbers the papers report."""
