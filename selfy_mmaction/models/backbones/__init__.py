from .resnet_blocks import ResNetTSMWithBlocks, ResNetWithBlocks

__all__ = ['ResNetTSMWithBlocks', 'ResNetWithBlocks']
