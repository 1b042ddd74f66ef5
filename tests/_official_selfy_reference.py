"""Test-only official structure, written from the spec (docs/selfy.md), not
from the authors' code: :class:`OfficialSELFYNet`, a plain ``nn.Module``
with the official network's parameter names (``base_model.*``,
``new_fc``), its layer types (Conv3d extraction, ConvTranspose3d
upsampling) and its forward, used to check the converter and both
implementations of our SELFY block. Its STSS is the package's definition
(:func:`selfy_mmaction.ops.stss_reference`), the one plain formulation.
"""

import torch
import torch.nn as nn

from selfy_mmaction.ops.stss import stss_reference


class Rearrange(nn.Module):
    """Parameter-free reshaping step inside an official ``nn.Sequential``
    (it shifts the indices of the layers after it)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _conv_bn_relu3d(
    in_ch, out_ch, kernel, stride=(1, 1, 1), padding=(0, 1, 1)
):
    return nn.Sequential(
        nn.Conv3d(in_ch, out_ch, kernel, stride, padding, bias=False),
        nn.BatchNorm3d(out_ch),
        nn.ReLU(inplace=True),
    )


class OfficialSTSSTransformation(nn.Module):
    def __init__(self, in_channels, num_segments, hidden_channels, window):
        super().__init__()
        self.num_segments = num_segments
        self.window = window
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, hidden_channels, 3, 2, 1, bias=False),
            nn.BatchNorm2d(hidden_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        y = self.downsample(x)
        nt, c, h, w = y.shape
        y = y.view(nt // self.num_segments, self.num_segments, c, h, w)
        y = y / torch.sqrt((y**2).sum(2, keepdim=True) + 1e-6)
        # official layout (N, T, H, W, 1, L, U, V)
        return (
            stss_reference(y, self.window)
            .permute(0, 1, 5, 6, 2, 3, 4)
            .unsqueeze(4)
        )


class OfficialSTSSExtraction(nn.Module):
    """Conv3d (1, 3, 3) layers on the (1, L, U, V) volume of each position;
    the last kernel covers what is left (3x3 for 9x9 windows)."""

    def __init__(self, window, channels=(4, 16, 64, 64)):
        super().__init__()
        size = list(window[1:])
        in_ch = 1
        for i, (out_ch, stride) in enumerate(zip(channels[:-1], (1, 2, 2))):
            setattr(
                self,
                f'conv{i}',
                _conv_bn_relu3d(in_ch, out_ch, (1, 3, 3), (1, stride, stride)),
            )
            size = [(s - 1) // stride + 1 for s in size]
            in_ch = out_ch
        self.conv3 = _conv_bn_relu3d(
            in_ch, channels[-1], (1, *size), padding=0
        )

    def forward(self, s):
        n, t, h, w, _, length, u, v = s.shape
        y = s.reshape(n * t * h * w, 1, length, u, v)
        for i in range(4):
            y = getattr(self, f'conv{i}')(y)
        c = y.shape[1]
        # (N*T*H*W, C, L, 1, 1) -> (N*L, C, T, H, W), n outer, l inner
        y = y.view(n, t, h, w, c, length).permute(0, 5, 4, 1, 2, 3)
        return y.reshape(n * length, c, t, h, w)


class OfficialSTSSIntegration(nn.Module):
    def __init__(self, out_channels, num_segments, window, channels=64):
        super().__init__()
        length = window[0]
        self.num_segments = num_segments
        for i in range(3):
            setattr(
                self,
                f'conv{i}',
                _conv_bn_relu3d(channels, channels, (1, 3, 3)),
            )

        def fuse_offsets(x):
            nl, c, t, h, w = x.shape
            return x.view(nl // length, length * c, t, h, w)

        def frames_first(x):
            n, c, t, h, w = x.shape
            return x.transpose(1, 2).reshape(n * t, c, h, w)

        self.conv3_fuse = nn.Sequential(
            Rearrange(fuse_offsets),
            nn.Conv3d(
                length * channels,
                channels,
                (1, 3, 3),
                1,
                (0, 1, 1),
                bias=False,
            ),
            nn.BatchNorm3d(channels),
            nn.ReLU(inplace=True),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose3d(
                channels,
                out_channels,
                1,
                (1, 2, 2),
                output_padding=(0, 1, 1),
                bias=False,
            ),
            nn.BatchNorm3d(out_channels),
            Rearrange(frames_first),
        )

    def forward(self, y, output_size=None):
        for i in range(3):
            y = getattr(self, f'conv{i}')(y)
        y = self.conv3_fuse(y)
        size = (
            None if output_size is None else (self.num_segments, *output_size)
        )
        y = self.upsample[0](y, output_size=size)
        return self.upsample[2](self.upsample[1](y))


class OfficialSELFY(nn.Module):
    """The official block's structure and forward (``base_model.selfy``);
    ``output_size`` extends the official even-size upsampling to odd sizes."""

    def __init__(
        self,
        in_channels=512,
        num_segments=8,
        hidden_channels=128,
        window=(5, 9, 9),
    ):
        super().__init__()
        self.stss_transformation = OfficialSTSSTransformation(
            in_channels, num_segments, hidden_channels, window
        )
        self.stss_extraction = OfficialSTSSExtraction(window)
        self.stss_integration = OfficialSTSSIntegration(
            in_channels, num_segments, window
        )

    def forward(self, x):
        s = self.stss_transformation(x)
        y = self.stss_integration(self.stss_extraction(s), x.shape[-2:])
        return torch.relu(x + y)


def official_to_ours(name):
    """Our SELFYBlock parameter name of an official ``selfy.*`` name (the
    mapping documented in selfy_mmaction/models/blocks/selfy.py)."""
    parts = name.split('.')
    index_names = {'0': 'conv', '1': 'bn'}
    if parts[1] == 'conv3_fuse':
        index_names = {'1': 'conv', '2': 'bn'}
    parts[2] = index_names[parts[2]]
    return '.'.join(parts)


def temporal_shift(x, num_segments, shift_div=8):
    """TSM: the first C/div channels read frame t+1, the next C/div frame
    t-1, zeros beyond the clip."""
    nt, c, h, w = x.shape
    x = x.view(nt // num_segments, num_segments, c, h, w)
    fold = c // shift_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]
    out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
    return out.view(nt, c, h, w)


class OfficialBottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride, num_segments):
        super().__init__()
        self.num_segments = num_segments
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )

    def forward(self, x):
        out = temporal_shift(x, self.num_segments)
        out = self.relu(self.bn1(self.conv1(out)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class OfficialBaseModel(nn.Module):
    """TSM ResNet-50 with the SELFY block after layer2 (``base_model``)."""

    def __init__(self, num_segments=8, window=(5, 9, 9)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (planes, blocks, stride) in enumerate(
            zip((64, 128, 256, 512), (3, 4, 6, 3), (1, 2, 2, 2))
        ):
            layer = []
            for j in range(blocks):
                layer.append(
                    OfficialBottleneck(
                        inplanes, planes, stride if j == 0 else 1, num_segments
                    )
                )
                inplanes = planes * 4
            setattr(self, f'layer{i + 1}', nn.Sequential(*layer))
        self.selfy = OfficialSELFY(512, num_segments, 128, window)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Dropout(0.5)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = self.selfy(x)
        x = self.layer4(self.layer3(x))
        return self.fc1(self.avgpool(x).flatten(1))


class OfficialSELFYNet(nn.Module):
    """``base_model`` + the ``new_fc`` Conv1d head, logits averaged over
    segments. Wrap in ``nn.DataParallel`` (or prefix ``module.``) to get the
    saved key names."""

    def __init__(self, num_classes, num_segments=8, window=(5, 9, 9)):
        super().__init__()
        self.num_segments = num_segments
        self.base_model = OfficialBaseModel(num_segments, window)
        self.new_fc = nn.Conv1d(2048, num_classes, 1)

    def forward(self, x):
        feats = self.base_model(x)  # (N*T, 2048)
        feats = feats.view(-1, self.num_segments, feats.shape[1])
        return self.new_fc(feats.transpose(1, 2)).mean(2)


def randomize_(module, generator=None):
    """Random weights and BN statistics (positive variances)."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                tensor.fill_(7)
            elif name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5, generator=generator)
            elif tensor.dim() > 1:
                fan_in = tensor[0].numel()
                tensor.normal_(0, (2.0 / fan_in) ** 0.5, generator=generator)
            else:
                tensor.normal_(0, 0.2, generator=generator)
                if name.endswith('.weight'):
                    tensor.add_(1)
    return module
