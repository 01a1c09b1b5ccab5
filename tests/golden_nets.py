"""Shared by the golden generators (tests/gen_decoder_golden.py, tests/gen_voice_golden.py): make a randomly
initialised torch network exercise what training initialises trivially."""
import torch


@torch.no_grad()
def randomise_affine(module):
    """LayerNorm weights 1 + 0.2 N(0,1), every bias 0.1 N(0,1) (in named_parameters order, from torch's global
    generator), so the C side's LayerNorm affine and bias paths are checked with non-trivial values."""
    for name, p in module.named_parameters():
        if "norm" in name and name.endswith("weight"):
            p.copy_(1.0 + 0.2 * torch.randn_like(p))
        elif name.endswith("bias"):
            p.copy_(0.1 * torch.randn_like(p))
