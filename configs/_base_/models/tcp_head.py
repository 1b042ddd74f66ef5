# TCPHead of the TCP R50 configs (Something-Something V1, 8 segments):
# reduction 2048 -> 256 -> 128, video-level covariance, 3 Newton-Schulz
# iterations. Only a variable: a config puts it in place of its head with
# `cls_head=dict(_base_.tcp_head, _delete_=True)` and trains it at lr x5.
tcp_head = dict(
    type='TCPHead',
    num_classes=174,
    in_channels=2048,
    num_segments=8,
    reduce_channels=(256, 128),
    level='video',
    num_iters=3,
    dropout_ratio=0.5,
    init_std=0.001,
    average_clips='prob',
)
