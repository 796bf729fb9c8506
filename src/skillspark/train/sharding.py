"""FSDP2 for the trainer, applied by hand: `fully_shard` on every decoder layer and on the root.

Why by hand: accelerate 1.15 never selects FSDP for CPU processes (they stay MULTI_CPU whatever the
config says), so a launch with `accelerate/fsdp.yaml` is recognised by the variable accelerate sets for it
(ACCELERATE_USE_FSDP) and the trainer shards the model itself; the same code then runs on CPU (gloo) and
GPU. Sharded parameters are DTensors holding a slice each. A forward on sharded weights is a collective
(every process must call it the same number of times), which rollouts and scoring are not: each process
plays its own games. So those run inside `full_weights`, which gathers every layer once, lets each
process forward as often as it needs, and frees the gathered copies after.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch


def fsdp_requested() -> bool:
    """True under `accelerate launch --config_file .../fsdp.yaml` (or any launch with --use_fsdp)."""
    return os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true"


def shard(model) -> None:
    """Shard each decoder layer (its own gather unit) and the root (embeddings, final norm, LM head)."""
    from torch.distributed.fsdp import fully_shard

    for layer in model.model.layers:
        fully_shard(layer)
    fully_shard(model)


def is_sharded(model) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


@contextmanager
def full_weights(model):
    """Whole weights on every process for the block (forwards without gradients, any number of them);
    sharded again after. Swap teacher/reference weights in *outside* this block: inside it the module's
    parameters are the gathered copies, and writes to them are not kept."""
    if not is_sharded(model) or getattr(model, "_gathered", False):  # nested: the outer block gathered
        yield
        return
    from torch.distributed.fsdp import FSDPModule

    model._gathered = True
    units = [m for m in model.modules() if isinstance(m, FSDPModule)]
    for unit in units:
        unit.set_reshard_after_forward(False, recurse=False)
        unit.unshard()
    try:
        yield
    finally:
        model._gathered = False
        for unit in units:
            unit.reshard()
            unit.set_reshard_after_forward(unit is not model, recurse=False)  # the root keeps its weights, as fully_shard sets it


def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """Clip by the global norm; with sharded gradients the norm is a DTensor, made whole for logging."""
    norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    return norm.full_tensor() if hasattr(norm, "full_tensor") else norm


def whole(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Sharded tensors (a teacher's copy) gathered into whole CPU tensors; a collective on every process."""
    return {name: (t.full_tensor() if hasattr(t, "full_tensor") else t).detach().cpu() for name, t in tensors.items()}


def full_checkpoint_state(model, optimizer) -> tuple[dict, dict]:
    """The model's and the optimizer's state in a single-process checkpoint's format (whole CPU tensors;
    the optimizer's keyed by parameter index), gathered on every process, complete on process 0."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    kept = {name for name, _ in model.named_parameters()} | {name for name, _ in model.named_buffers()}
    weights = {name: t for name, t in get_model_state_dict(model, options=options).items() if name in kept}  # a tied LM head once
    optim = get_optimizer_state_dict(model, optimizer, options=options)
    if not optim:  # processes other than 0 receive nothing
        return weights, {}
    order = [name for group in optim["param_groups"] for name in group["params"]]
    index = {name: i for i, name in enumerate(order)}
    return weights, {
        "state": {index[name]: value for name, value in optim["state"].items()},
        "param_groups": [group | {"params": [index[name] for name in group["params"]]} for group in optim["param_groups"]],
    }
