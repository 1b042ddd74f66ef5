from .resnet_blocks import ResNetTSMWithBlocks, ResNetWithBlocks

__all__ = ['ResNetTSMWithBlocks', 'ResNetWithBlocks']
from .bqn import BQNResNet, BusyResNetTSM  # noqa: F401,E402
from .cost import ResNet3dCoST  # noqa: F401,E402
from .ean import EANResNet  # noqa: F401,E402
from .mstat import MSTAT  # noqa: F401,E402
from .res2net_tea import TEARes2Net  # noqa: F401,E402
from .tdn import TDNResNet  # noqa: F401,E402
