# The sampling of the snippet configs (TDN, EAN, BQN's busy network): 8
# segments of 5 consecutive frames; frames past the end repeat the last one,
# as TDN's loader. A data base lists it beside its frame base and puts it in
# place of that base's SampleFrames.
snippet_sampling = dict(
    type='SampleFrames',
    clip_len=5,
    frame_interval=1,
    num_clips=8,
    out_of_bound_opt='repeat_last',
)
