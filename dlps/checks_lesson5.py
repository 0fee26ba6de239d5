"""Checks for the exercises of Lesson 5 (exercises/05_transfer_learning).

Each function is called by the check cell after one gap and works the right answer out itself,
from the weights' own preset and from the network the learner froze; see ``dlps.checks``.
"""

from __future__ import annotations

import torch

from .checks import CheckFailed, call, exercise_check, expect, expect_close, passed


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
def few_labels(label_counts, pretrained_acc, scratch_acc, strict=True):
    """Exercise 3: one test accuracy per label count and method, and features that learned
    (``strict``: real ImageNet weights and a real profile; else a chance-level floor)."""
    for name, accs in (("pretrained_acc", pretrained_acc), ("scratch_acc", scratch_acc)):
        expect(len(accs) == len(label_counts), name,
               f"holds {len(accs)} accuracies for {len(label_counts)} label counts.",
               "Append one test accuracy per label count.")
        expect(all(0.0 <= float(a) <= 1.0 for a in accs), name,
               "holds values outside [0, 1]; accuracy is a fraction.")
    floor = 0.7 if strict else 0.2
    expect(float(pretrained_acc[-1]) >= floor, "pretrained_acc",
           "is not much better than guessing with the most labels: the head has not learned "
           "enough.", "Train the head on the embeddings of the labelled images with the fair "
                      "budget, and score it on test_embeddings.")
    passed("pretrained_acc and scratch_acc", None,
           "with the most labels: " + f"pretrained {float(pretrained_acc[-1]):.3f}, "
           f"scratch {float(scratch_acc[-1]):.3f}")


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
