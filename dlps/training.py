"""Training plumbing: written out in full in the lesson named by each docstring, imported after.

Like d2l's ``#@save`` cells, the lesson is the source and this module is the collection: each
function here behaves like the code the lesson teaches, so a learner who read that section can
read this file.  Lessons 2 and 3 keep their training loops written out, because there the loop is
the lesson.
"""

from __future__ import annotations

import copy
import math
import os

import torch
import torch.nn.functional as F

__all__ = ["amp_dtype", "autocast", "count_parameters", "evaluate", "fit", "grad_scaler",
           "predict"]


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Number of numbers the optimiser can change: every entry of every weight and bias.

    Taught in Lesson 2, section "Counting parameters".
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


#: Environment variable that only the test suite sets: ``DLPS_EMULATE_AMP=1`` makes the CPU
#: behave like a bfloat16 GPU for ``amp_dtype``/``autocast``, so that every notebook can be run
#: with mixed precision on a machine without a GPU (``make test`` runs them all once that way).
EMULATE_AMP_ENV = "DLPS_EMULATE_AMP"


def _emulating_amp() -> bool:
    return os.environ.get(EMULATE_AMP_ENV, "").strip() not in ("", "0")


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The reduced precision worth using for mixed precision on ``device``, or None.

    bfloat16 on CUDA GPUs that have native bfloat16 tensor cores (compute capability 8.0 and
    newer: A100, H100, RTX 30xx and later); float16 on CUDA GPUs with float16 tensor cores but
    no bfloat16 (7.x: V100, Colab's T4), which then needs a gradient scaler; None (stay in
    float32) on older CUDA GPUs (below 7.0 float16 has no tensor cores and is slow), on CPUs
    and on Apple GPUs.  With ``$DLPS_EMULATE_AMP`` set (tests only) the CPU gets bfloat16.
    Taught in Lesson 4, section "Mixed precision on CUDA".
    """
    if device.type == "cpu" and _emulating_amp():
        return torch.bfloat16
    if device.type != "cuda":
        return None
    major, _ = torch.cuda.get_device_capability(device)
    if major >= 8:
        return torch.bfloat16
    return torch.float16 if major >= 7 else None


def autocast(device: torch.device):
    """``torch.autocast`` with ``amp_dtype(device)``; switched off where that is None.

    Taught in Lesson 4, section "Mixed precision on CUDA".
    """
    dtype = amp_dtype(device)
    # A disabled autocast still validates its dtype, and CPU autocast accepts bfloat16.
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def grad_scaler(device: torch.device) -> torch.amp.GradScaler:
    """A gradient scaler that is active only with float16 autocast (see ``amp_dtype``).

    float16 has a narrow exponent range: small gradients underflow to zero unless the loss is
    scaled up before ``backward`` and the gradients scaled back down before the step.  Make one
    per training run (it learns a good scale factor as the run goes), not one per epoch.
    Taught in Lesson 4, section "Mixed precision on CUDA".
    """
    return torch.amp.GradScaler("cuda", enabled=amp_dtype(device) == torch.float16)


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(model, X, prepare=None, batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` for every row of ``X``, as float32 on the model's device.

    The forward pass runs under ``autocast`` exactly as in training, so predictions shown
    (a confusion matrix, a gallery of mistakes) and accuracies reported come from one
    precision path: on a bfloat16 GPU a float32 rerun would flip a few near-tie images.
    ``X`` may live on any device; ``prepare`` turns a raw batch into network input.
    Taught in Lesson 4, section "The training loop, written once".
    """
    model.eval()  # dropout off, batch norm uses its running statistics
    device = _model_device(model)
    chunks = []
    for start in range(0, len(X), batch_size):
        x = X[start:start + batch_size].to(device)
        with autocast(device):
            logits = model(prepare(x) if prepare else x)
        chunks.append(logits.float())  # losses, softmax and NumPy want float32
    return torch.cat(chunks)


@torch.no_grad()
def evaluate(model, X, y, prepare=None, batch_size: int = 1024) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a classifier that outputs logits, without gradients.

    ``X`` and ``y`` may live on any device; the logits come from ``predict``, so accuracies
    and the predictions a lesson shows always agree.
    Taught in Lesson 4, section "The training loop, written once".
    """
    logits = predict(model, X, prepare, batch_size)
    target = y.to(logits.device)
    loss = F.cross_entropy(logits, target)
    correct = (logits.argmax(dim=1) == target).sum()
    # one synchronisation per call, not one per batch
    return loss.item(), correct.item() / len(X)


def _train_one_epoch(model, optimizer, scaler, X, y, batch_size, prepare, augment, scheduler):
    model.train()
    device = _model_device(model)
    order = torch.randperm(len(X), device=X.device)
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        batch = X[idx].to(device)
        if augment is not None:
            batch = augment(batch)
        with autocast(device):
            logits = model(prepare(batch) if prepare else batch)
        # the loss in float32: a reduced-precision softmax and log lose small probabilities
        loss = F.cross_entropy(logits.float(), y[idx].to(device))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()


def fit(model, optimizer, train, val, num_epochs: int, batch_size: int, *, prepare=None,
        augment=None, scheduler=None, patience: int | None = None, eval_every: int = 1,
        train_probe=None, progress: bool = True) -> dict:
    """Mini-batch training of a classifier with a validation history and the best weights kept.

    ``train`` and ``val`` are ``(X, y)`` pairs.  Every ``eval_every`` epochs (and after the
    last) the model is scored on ``val`` and, if given, on ``train_probe`` (a fixed sample of
    training data scored the same way, for the train-validation gap).  The weights of the best
    validation accuracy are kept in memory and restored at the end, so every run is scored from
    its best-validation checkpoint.  With ``patience``, training stops once that many
    evaluations in a row brought no improvement (early stopping).

    Returns ``{"history", "epochs_run", "best_epoch", "best_val_acc"}``; ``history`` holds one
    entry per evaluation: ``epoch``, ``val_loss``, ``val_acc`` and, with a probe, ``train_loss``
    and ``train_acc``.
    Taught in Lesson 4, section "Training with history, checkpoints and early stopping".
    """
    from tqdm.auto import trange

    device = _model_device(model)
    scaler = grad_scaler(device)
    history = {key: [] for key in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")}
    best_acc, best_epoch, best_state, waited = -math.inf, 0, None, 0
    epoch = 0
    for epoch in trange(1, num_epochs + 1, leave=False, disable=not progress):
        _train_one_epoch(model, optimizer, scaler, *train, batch_size, prepare, augment,
                         scheduler)
        if epoch % eval_every and epoch != num_epochs:
            continue
        history["epoch"].append(epoch)
        if train_probe is not None:
            for key, value in zip(("train_loss", "train_acc"),
                                  evaluate(model, *train_probe, prepare=prepare)):
                history[key].append(value)
        val_loss, val_acc = evaluate(model, *val, prepare=prepare)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_acc > best_acc:
            best_acc, best_epoch, waited = val_acc, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if patience is not None and waited >= patience:
                break
    model.load_state_dict(best_state)
    if train_probe is None:
        del history["train_loss"], history["train_acc"]
    return {"history": history, "epochs_run": epoch, "best_epoch": best_epoch,
            "best_val_acc": best_acc}
