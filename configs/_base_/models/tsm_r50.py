# MMAction2's TSM-R50, with CheckedTSMHead: TSMHead's weights and outputs, and
# a clear error when a sample's frame count does not fit num_segments.
_base_ = 'mmaction::_base_/models/tsm_r50.py'

model = dict(cls_head=dict(type='CheckedTSMHead'))
