# The official SELFY recipe (selfy_recipe.py) for the TCP R50 configs: the
# TCPHead variable of models/tcp_head.py, which a config puts in place of its
# head (`cls_head=dict(_base_.tcp_head, _delete_=True)`), trained at lr x5
# (its BN included, with weight decay).
_base_ = ['./selfy_recipe.py', './models/tcp_head.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=5)})
)
