# TSM-ResNet-18 on the embedded motion dataset (from scratch, 48 px, 8 frames).
_base_ = ['../_base_/models/tsm_r18_motion.py', '../_base_/motion.py']
