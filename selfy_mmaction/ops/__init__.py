from .layout import check_segments, to_4d, to_5d, to_ntchw
from .stss import (
    l2_normalize,
    local_correlation,
    local_correlation_reference,
    stss,
    stss_reference,
)
from .temporal import (
    TemporalConv1d,
    TemporalDifferenceUnit,
    temporal_difference,
)

__all__ = [
    'check_segments',
    'to_4d',
    'to_5d',
    'to_ntchw',
    'TemporalConv1d',
    'TemporalDifferenceUnit',
    'temporal_difference',
]
__all__ += [
    'l2_normalize',
    'local_correlation',
    'local_correlation_reference',
    'stss',
    'stss_reference',
]
