"""Video person re-identification: recognizer, BNNeck head, triplet loss."""

from .bnneck_head import BNNeckHead
from .losses import BatchHardTripletLoss
from .video_reid import VideoReID

__all__ = ['BNNeckHead', 'BatchHardTripletLoss', 'VideoReID']
