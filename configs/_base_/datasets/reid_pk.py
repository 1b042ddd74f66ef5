# What the video re-ID data bases share: 8-frame tracklets, P=8 identities x
# K=4 tracklets per training batch (IdentityBatchSampler), the PackActionInputs
# meta keys of the re-ID metric and the metric itself (mAP, CMC). A data base
# on top adds its files, pipelines, batch size for testing and workers.
num_frames = 8
num_identities, num_instances = 8, 4  # P x K
reid_meta_keys = ('pid', 'camid', 'is_query')

train_dataloader = dict(
    batch_size=num_identities * num_instances,
    persistent_workers=True,
    sampler=dict(
        type='IdentityBatchSampler',
        num_identities=num_identities,
        num_instances=num_instances,
    ),
    dataset=dict(relabel=True),
)
val_dataloader = dict(
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(test_mode=True),
)
test_dataloader = val_dataloader

val_evaluator = dict(type='ReIDMetric', distance='euclidean')
test_evaluator = val_evaluator
