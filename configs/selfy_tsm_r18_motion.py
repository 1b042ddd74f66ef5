# The main job: TSM-ResNet-18 on the embedded motion dataset, from scratch.
# (Becomes SELFY-TSM-R18 once the SELFY block lands.)
_base_ = ['tsm/tsm_r18_1x1x8-15e_motion-rgb.py']
