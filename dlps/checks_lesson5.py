"""Checks for the exercises of Lesson 5 (exercises/05_transfer_learning).

Each function is called by the check cell after one gap and works the right answer out itself,
from the weights' own preset and from the network the learner froze; see ``dlps.checks``.
"""

from __future__ import annotations

import torch

from .checks import CheckFailed, call, exercise_check, expect, expect_close, passed
from .training import evaluate


@exercise_check
def fashion_to_resnet(fashion_to_resnet, weights, image_size, device):
    """Exercise 1: grey uint8 (N, 28, 28) -> ImageNet-normalised float32 (N, 3, s, s)."""
    preset = weights.transforms()
    black_white = torch.stack([torch.zeros(28, 28, dtype=torch.uint8),
                               torch.full((28, 28), 255, dtype=torch.uint8)])
    got = call("fashion_to_resnet", fashion_to_resnet, black_white)
    expect(isinstance(got, torch.Tensor), "fashion_to_resnet(...)",
           f"returns a {type(got).__name__}, not a tensor.")
    expect(got.device.type == torch.device(device).type, "fashion_to_resnet(...)",
           f"returns a tensor on {got.device.type}, not on {torch.device(device).type}.",
           "Move the images to `device` inside the function.")
    expect(got.dtype == torch.float32, "fashion_to_resnet(...)",
           f"returns {got.dtype}, not float32.", "Convert with .float() and scale by 1/255.")
    expect(tuple(got.shape) == (2, 3, image_size, image_size), "fashion_to_resnet(...)",
           f"returns shape {tuple(got.shape)} for 2 images; it should be "
           f"(2, 3, {image_size}, {image_size}).",
           "Add a channel axis, repeat it three times, and resize to image_size.")
    got = got.cpu()
    if torch.allclose(got[:, :, 5, 5], ((torch.tensor([0.0, 1.0]).view(2, 1) - 0.5) / 0.5)
                      .expand(2, 3), atol=1e-3):
        raise CheckFailed("fashion_to_resnet(...)", "is normalised with mean 0.5 and "
                          "standard deviation 0.5, not with ImageNet's statistics.",
                          "Read mean and std from weights.transforms().")
    expect(torch.allclose(got[:, 0] * preset.std[0] + preset.mean[0],
                          got[:, 2] * preset.std[2] + preset.mean[2], atol=1e-4),
           "fashion_to_resnet(...)", "the three colour channels hold different pictures "
           "(after undoing the normalisation).",
           "A grey pixel is a colour pixel with equal red, green and blue.")
    mean = torch.tensor(preset.mean).view(1, 3, 1, 1)
    std = torch.tensor(preset.std).view(1, 3, 1, 1)
    expected = (torch.tensor([0.0, 1.0]).view(2, 1, 1, 1) - mean) / std
    expect_close("fashion_to_resnet(...) of a black and a white image", got[:, :, 5, 5],
                 expected[:, :, 0, 0], rtol=1e-3, atol=1e-3,
                 hint="Scale pixels to [0, 1] first, then subtract the preset's mean and "
                      "divide by its std, channel by channel.")
    passed("fashion_to_resnet", None, f"shape (N, 3, {image_size}, {image_size}), three equal "
           "channels, ImageNet normalisation")


@exercise_check
def embeddings(resnet, fashion_to_resnet, pool_images, test_images, pool_embeddings,
               test_embeddings):
    """Exercise 2: a frozen, evaluation-mode backbone; every image embedded once."""
    for name, got, images in (("pool_embeddings", pool_embeddings, pool_images),
                              ("test_embeddings", test_embeddings, test_images)):
        expect(isinstance(got, torch.Tensor), name, f"is a {type(got).__name__}.")
        expect(tuple(got.shape) == (len(images), 512), name,
               f"has shape {tuple(got.shape)}; it needs one 512-number embedding per image "
               f"({len(images)} images).",
               "Replace resnet.fc by nn.Identity() and embed every image.")
        expect(not got.requires_grad, name, "still carries a computational graph.",
               "Compute embeddings under torch.no_grad().")
    expect(not resnet.training, "resnet", "is in training mode: its batch normalisation "
           "layers would keep changing their statistics.", "Call resnet.eval().")
    expect(not any(p.requires_grad for p in resnet.parameters()), "resnet",
           "still has parameters with requires_grad=True.", "Freeze every parameter.")
    with torch.no_grad():
        reference = resnet(fashion_to_resnet(pool_images[:8])).float()
    expect(reference.shape[-1] == 512, "resnet", f"outputs {reference.shape[-1]} numbers per "
           "image, not the 512-number embedding.", "Replace resnet.fc by nn.Identity().")
    expect_close("pool_embeddings[:8]", pool_embeddings[:8].float(), reference, rtol=2e-2,
                 atol=2e-2, hint="Embed the pool images in their original order, in "
                                 "evaluation mode.")
    passed("pool_embeddings and test_embeddings", None,
           f"{len(pool_embeddings)} and {len(test_embeddings)} embeddings from the frozen "
           "backbone")


@exercise_check
def few_labels(label_counts, indices, val_indices, fit_fairly, pool_embeddings, pool_labels,
               val_embeddings, val_labels, test_embeddings, test_labels, pretrained_acc,
               scratch_model, test_grey, scratch_acc, strict=True):
    """Exercise 3: one test accuracy per label count and method; heads that saw only the
    learner's labelled images (the head of the fewest and of the most labels is retrained here,
    from seed 0 with the page's ``fit_fairly``, on the learner's indices); and a scratch network
    that exists and beats chance (``strict``: real ImageNet weights and a real profile, with a
    floor for the pretrained features)."""
    for name, accs in (("pretrained_acc", pretrained_acc), ("scratch_acc", scratch_acc),
                       ("indices", indices), ("val_indices", val_indices)):
        expect(len(accs) == len(label_counts), name,
               f"holds {len(accs)} entries for {len(label_counts)} label counts.",
               "Append one entry per label count.")
    for name, accs in (("pretrained_acc", pretrained_acc), ("scratch_acc", scratch_acc)):
        expect(all(0.0 <= float(a) <= 1.0 for a in accs), name,
               "holds values outside [0, 1]; accuracy is a fraction.")
    for per_class, idx, val_idx in zip(label_counts, indices, val_indices):
        counts = torch.bincount(pool_labels[idx].cpu(), minlength=10)
        expect(len(set(idx.tolist())) == len(idx) and bool((counts == per_class).all()),
               "indices", f"the set for {per_class} labels per class does not hold "
               f"{per_class} different images of every class.",
               "Use labelled_subset(pool_labels, per_class).")
        expect(len(val_idx) <= len(idx), "val_indices", f"for {per_class} labels per class "
               "holds more validation images than training images.",
               "Draw as many validation images per class as training images.")
    # The same recipe, on the learner's own images: the accuracy must come out the same.
    slack = 2.5 / len(test_labels)             # a couple of images (GPU arithmetic varies)
    for i in sorted({0, len(label_counts) - 1}):
        idx, val_idx = indices[i], val_indices[i]
        torch.manual_seed(0)
        head = call("fit_fairly", fit_fairly,
                    torch.nn.Linear(pool_embeddings.shape[1], 10).to(pool_embeddings.device),
                    (pool_embeddings[idx], pool_labels[idx]),
                    (val_embeddings[val_idx], val_labels[val_idx]))
        # scored as the page scores it (dlps.evaluate: the same precision path)
        retrained = evaluate(head, test_embeddings, test_labels)[1]
        expect(abs(retrained - float(pretrained_acc[i])) <= slack, "pretrained_acc",
               f"with {label_counts[i]} labels per class is not what a head trained from seed "
               "0 on pool_embeddings[idx] reaches: did your head see more images than idx, "
               "or other validation images?",
               "Seed with torch.manual_seed(0), then train the head with fit_fairly on "
               "pool_embeddings[idx], validated on val_embeddings[val_idx].")
    expect(isinstance(scratch_model, torch.nn.Module), "scratch_model",
           f"is a {type(scratch_model).__name__}, not a trained network: no trained network "
           "to compare with.", "Keep the TinyCNN of the last label count as scratch_model.")
    measured = evaluate(scratch_model, test_grey, test_labels)[1]
    chance = 0.1 + 3 * (0.1 * 0.9 / len(test_labels)) ** 0.5
    expect(measured > chance, "scratch_model", "is no better than guessing on the test images: "
           "it has not been trained.", "Train it with fit_fairly on pool_grey[idx].")
    expect(abs(measured - float(scratch_acc[-1])) < 1e-6, "scratch_acc",
           "with the most labels is not the test accuracy of scratch_model.",
           "Score scratch_model with dlps.evaluate(scratch_model, test_grey, test_labels).")
    floor = 0.7 if strict else 0.2
    expect(float(pretrained_acc[-1]) >= floor, "pretrained_acc",
           "is not much better than guessing with the most labels: the head has not learned "
           "enough.", "Train the head on the embeddings of the labelled images with the fair "
                      "budget, and score it on test_embeddings.")
    passed("pretrained_acc and scratch_acc", None,
           "with the most labels: " + f"pretrained {float(pretrained_acc[-1]):.3f}, "
           f"scratch {float(scratch_acc[-1]):.3f}; heads trained on your labelled images only")


def _probe_resnet():
    import torchvision

    model = torchvision.models.resnet18(weights=None)
    model.fc = torch.nn.Linear(512, 10)
    return model


@exercise_check
def finetune_optimizer(finetune_optimizer):
    """Exercise 4.1: two parameter groups, the head at lr_head, everything else at lr_backbone."""
    model = _probe_resnet()
    lr_backbone, lr_head = 1e-4, 1e-3
    optimizer = call("finetune_optimizer", finetune_optimizer, model, lr_backbone, lr_head)
    expect(isinstance(optimizer, torch.optim.Optimizer), "finetune_optimizer(...)",
           f"returns a {type(optimizer).__name__}, not an optimizer.")
    rate_of = {}
    for group in optimizer.param_groups:
        for param in group["params"]:
            expect(id(param) not in rate_of, "finetune_optimizer(...)",
                   "puts a parameter into two groups.", "Each parameter belongs to one group.")
            rate_of[id(param)] = group["lr"]
    missing = [name for name, p in model.named_parameters() if id(p) not in rate_of]
    expect(not missing, "finetune_optimizer(...)",
           f"leaves {len(missing)} parameters left out of the optimizer (for example "
           f"{missing[0] if missing else ''}): they would never train.",
           "Give every parameter of the backbone to the backbone group.")
    head = [rate_of[id(p)] for p in model.fc.parameters()]
    backbone = [rate_of[id(p)] for name, p in model.named_parameters()
                if not name.startswith("fc.")]
    expect(len(optimizer.param_groups) >= 2 and len(set(head + backbone)) > 1,
           "finetune_optimizer(...)", "gives every parameter one learning rate.",
           "Use two parameter groups: a list of dictionaries with 'params' and 'lr'.")
    expect(all(r == lr_head for r in head) and all(r == lr_backbone for r in backbone),
           "finetune_optimizer(...)", "gives the backbone the larger rate, or mixes the "
           "two rates up.", "model.fc gets lr_head; every other parameter gets lr_backbone.")
    passed("finetune_optimizer", None, f"{len(backbone)} backbone tensors at lr_backbone, "
           f"{len(head)} head tensors at lr_head")


@exercise_check
def set_train_mode(set_train_mode):
    """Exercise 4.2: training mode everywhere, except batch norm when ``freeze_bn`` is true."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                torch.nn.ReLU(), torch.nn.Dropout(0.5))
    for freeze_bn in (True, False):
        model.eval()
        call("set_train_mode", set_train_mode, model, freeze_bn)
        expect(model.training and model[3].training, "set_train_mode(model, "
               f"freeze_bn={freeze_bn})", "leaves the model, and its dropout, in evaluation "
               "mode.", "Start with model.train().")
        expect(model[1].training != freeze_bn, f"set_train_mode(model, freeze_bn={freeze_bn})",
               "leaves the batch-norm layers in training mode." if freeze_bn else
               "puts the batch-norm layers in evaluation mode although freeze_bn is false.",
               "After model.train(), call .eval() on every nn.BatchNorm2d when freeze_bn "
               "is true.")
    passed("set_train_mode", None, "training mode, batch norm in evaluation mode on request")


@exercise_check
def finetuned(tuned, start_val_acc, finetune_val_acc, val_size, strict=True):
    """Exercise 4, after training: every parameter changed or not, and (``strict``) validation
    accuracy not below the feature-extraction start, within its binomial standard error."""
    expect(not tuned.training, "tuned", "is still in training mode after the last step, "
           "although dlps.evaluate ran on it.", "Score it with dlps.evaluate.")
    for name, acc in (("start_val_acc", start_val_acc), ("finetune_val_acc", finetune_val_acc)):
        expect(0.0 <= float(acc) <= 1.0, name, "is not an accuracy between 0 and 1.")
    if strict:
        p = float(start_val_acc)
        se = max(p * (1 - p), 0.01) ** 0.5 / val_size ** 0.5
        expect(float(finetune_val_acc) >= p - 2 * se, "finetune_val_acc",
               "fell below the feature-extraction starting point: fine-tuning destroyed "
               "features.", "Use a much smaller learning rate for the backbone than for the "
                            "head, and keep batch norm in evaluation mode with tiny batches.")
    passed("finetune_val_acc", float(finetune_val_acc),
           f"from {float(start_val_acc):.3f} at the start")


@exercise_check
def label_plot(fig):
    """Exercise 3.2: both curves against the label count, on a logarithmic axis, labelled."""
    from matplotlib.figure import Figure

    expect(isinstance(fig, Figure), "fig", f"is a {type(fig).__name__}, not a matplotlib "
           "figure.", "Create it with fig, ax = plt.subplots().")
    expect(len(fig.axes) >= 1, "fig", "has no axes.")
    ax = fig.axes[0]
    expect(len(ax.lines) >= 2, "fig", f"shows {len(ax.lines)} curve(s); plot both methods.")
    expect(ax.get_xscale() == "log", "fig", "has a linear label axis.",
           "Label counts grow by factors: use ax.set_xscale(\"log\").")
    expect(bool(ax.get_xlabel()) and bool(ax.get_ylabel()), "fig",
           "has an unlabelled axis.", "Say what each axis shows, with units.")
    expect(ax.get_legend() is not None, "fig", "has no legend to tell the curves apart.")
    passed("fig", None, f"{len(ax.lines)} curves on a logarithmic axis, labelled")
