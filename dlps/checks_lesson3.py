"""Checks for the exercises of Lesson 3 (exercises/03_classification).

Each function is called by the check cell after one gap and works out the right answer itself,
from the inputs it is given; see ``dlps.checks`` for the conventions.  Trained classifiers are
random: their checks test structure, a loss that fell and internal consistency in every profile,
and accuracy floors from the ``laptop`` profile up.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import get_profile
from .checks import (
    CheckFailed,
    call,
    exercise_check,
    expect,
    expect_close,
    join_names,
    passed,
    to_tensor,
)

WINE_GOOD = 7          # a wine is "good" if its quality score is at least this
TARGET_RECALL = 0.75   # Exercise 4: find at least this fraction of the good wines


def _numpy(name, value) -> np.ndarray:
    return to_tensor(name, value).numpy()


# ----------------------------------------------------------------------------- wine quality
@exercise_check
def wine_split(wine, measurements, X_train_wine, X_val_wine, X_test_wine, y_train_wine,
               y_val_wine, y_test_wine):
    """Exercise 1: labels quality >= 7, a stratified 60/20/20 split, training-set scaling."""
    from sklearn.model_selection import train_test_split

    X = wine[measurements].to_numpy(dtype=np.float64)
    y = (wine["quality"] >= WINE_GOOD).to_numpy().astype(np.float64)
    X_trainval, X_test, y_trainval, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(
        X_trainval, y_trainval, test_size=0.25, stratify=y_trainval, random_state=0)
    _, _, unstratified_rest, unstratified_test = train_test_split(
        X, y, test_size=0.2, random_state=0)
    got_y = {"y_train_wine": y_train_wine, "y_val_wine": y_val_wine, "y_test_wine": y_test_wine}
    for name, value in got_y.items():
        expect(isinstance(value, torch.Tensor) and value.dtype == torch.float32, name,
               f"is not a float32 tensor ({type(value).__name__}, "
               f"{getattr(value, 'dtype', '-')}).",
               "BCEWithLogitsLoss wants float targets: torch.tensor(..., dtype=torch.float32).")
    labels = np.concatenate([_numpy(name, value) for name, value in got_y.items()])
    expect(len(labels) == len(y), "y_train_wine, y_val_wine, y_test_wine",
           f"hold {len(labels)} wines together, not all {len(y)}.")
    expect(math.isclose(labels.mean(), y.mean(), abs_tol=1e-9),
           "y_train_wine, y_val_wine, y_test_wine",
           f"mark {labels.mean():.1%} of the wines as good, which is not the fraction with "
           f"quality ≥ {WINE_GOOD}.", "Compare the quality column with >=, not >.")
    for name, truth in reversed(list(zip(got_y, (y_train, y_val, y_test)))):
        got = _numpy(name, got_y[name])
        expect(len(got) == len(truth), name,
               f"holds {len(got)} wines; the split asked for gives {len(truth)}.",
               "20 % for testing, then 25 % of the rest for validation.")
        unstratified = name == "y_test_wine" and np.array_equal(got, unstratified_test)
        expect(abs(got.mean() - y.mean()) < 0.005 and not unstratified, name,
               f"has {got.mean():.1%} good wines, the whole data {y.mean():.1%}: the split is "
               "not stratified.", "Pass stratify= with the labels to both splits.")
        expect(np.array_equal(got, truth), name,
               "is not the split asked for.", "Use random_state=0 in both splits.")
    train_mean, train_std = X_train.mean(axis=0), X_train.std(axis=0)
    for name, value, raw in [("X_train_wine", X_train_wine, X_train),
                             ("X_val_wine", X_val_wine, X_val),
                             ("X_test_wine", X_test_wine, X_test)]:
        expect(isinstance(value, torch.Tensor) and value.dtype == torch.float32, name,
               "is not a float32 tensor.")
        got = _numpy(name, value)
        expect(got.shape == raw.shape, name,
               f"has shape {got.shape}, but the set has {raw.shape}.")
        if np.allclose(got, (raw - train_mean) / train_std, rtol=1e-4, atol=1e-4):
            continue
        raise CheckFailed(name, "is not scaled with the means and standard deviations of the "
                          "training set: did the scaler see validation or test rows?",
                          "Fit StandardScaler on the training rows only; transform all three.")
    passed("the wine split", None, f"{len(y_train)}/{len(y_val)}/{len(y_test)} wines, "
           f"{y.mean():.1%} good in each set, scaled with training statistics")


def _logits(model, X) -> torch.Tensor:
    """The model's outputs for X in evaluation mode; the model's mode is left as it was."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            out = call("the model", model, X.to(device))
    finally:
        model.train(was_training)
    return out.detach().cpu().double()


@exercise_check
def wine_classifier(wine_model, X_val_wine, y_val_wine):
    """Exercise 2: a network with one logit per wine, trained with BCEWithLogitsLoss."""
    expect(isinstance(wine_model, nn.Module), "wine_model",
           f"is a {type(wine_model).__name__}, not an nn.Module.")
    modules = [m for m in wine_model.modules() if not list(m.children())]
    expect(not modules or not isinstance(modules[-1], (nn.Sigmoid, nn.Softmax)), "wine_model",
           f"ends with {type(modules[-1]).__name__}: its outputs are probabilities, but "
           "BCEWithLogitsLoss applies the sigmoid itself and expects logits.",
           "End the network with nn.Linear(..., 1).")
    logits = _logits(wine_model, X_val_wine)
    expect(logits.shape in [(len(X_val_wine), 1), (len(X_val_wine),)], "wine_model",
           f"gives output of shape {tuple(logits.shape)} for {len(X_val_wine)} wines; one "
           "logit per wine is needed.")
    logits = logits.flatten()
    y = to_tensor("y_val_wine", y_val_wine)
    loss = float(F.binary_cross_entropy_with_logits(logits, y))
    expect(loss < math.log(2), "wine_model",
           f"has a validation cross-entropy of {loss:.3f}, worse than a coin flip (log 2 = "
           "0.693): not learned.",
           "Train with nn.BCEWithLogitsLoss on the raw logits and float labels.")
    prior = float(y.mean())
    knowing_the_rate = -(prior * math.log(prior) + (1 - prior) * math.log(1 - prior))
    expect(get_profile() == "smoke" or loss < knowing_the_rate, "wine_model",
           f"has a validation cross-entropy of {loss:.3f}, no better than always predicting "
           "the fraction of good wines: not learned enough.",
           "Train for more epochs, and keep the weights of the best validation epoch.")
    passed("wine_model", None, f"validation cross-entropy {loss:.3f} (coin flip 0.693)")


def _exact_roc_area(scores, labels) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _area(fpr, tpr) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


@exercise_check
def roc_curve_by_hand(roc_curve_by_hand):
    """Exercise 3.1: the ROC curve by hand, tried on two probes (one with tied scores)."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 60).astype(np.float64)
    scores = rng.normal(size=60) + 1.5 * labels
    tied_scores, tied_labels = np.array([3.0, 2.0, 2.0, 1.0]), np.array([1.0, 1.0, 0.0, 0.0])
    for probe_scores, probe_labels, ties in [(scores, labels, False),
                                             (tied_scores, tied_labels, True)]:
        result = call("roc_curve_by_hand", roc_curve_by_hand, probe_scores, probe_labels)
        expect(isinstance(result, tuple) and len(result) == 2, "roc_curve_by_hand",
               "should return two arrays, (fpr, tpr).")
        fpr, tpr = (_numpy(name, a).ravel() for name, a in zip(("fpr", "tpr"), result))
        expect(len(fpr) == len(tpr), "roc_curve_by_hand", "returns fpr and tpr of different "
               "lengths.")
        expect(fpr[0] == 0 and tpr[0] == 0, "roc_curve_by_hand",
               "returns a curve that does not start at (0, 0).",
               "Start with the threshold above every score: nothing predicted positive.")
        expect(math.isclose(fpr[-1], 1) and math.isclose(tpr[-1], 1), "roc_curve_by_hand",
               f"returns a curve that ends at ({fpr[-1]:.3g}, {tpr[-1]:.3g}), not at (1, 1).",
               "Divide the false positives by the number of negatives and the true "
               "positives by the number of positives.")
        area, truth = _area(fpr, tpr), _exact_roc_area(probe_scores, probe_labels)
        if math.isclose(area, 1 - truth, rel_tol=1e-9) and not math.isclose(area, truth):
            raise CheckFailed("roc_curve_by_hand", "runs through the scores the wrong way: "
                              "its area is one minus the right one.",
                              "Lower the threshold step by step: sort by decreasing score.")
        expect(np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0), "roc_curve_by_hand",
               "returns a curve that goes backwards somewhere.")
        if ties:
            expect(math.isclose(area, truth, rel_tol=1e-9), "roc_curve_by_hand",
                   "treats samples with equal scores one at a time, but no threshold can "
                   "separate them.", "Keep only the last point of each run of equal scores.")
        expect(math.isclose(area, truth, rel_tol=1e-9), "roc_curve_by_hand",
               "returns a curve whose area is not the AUC of the scores.")
    passed("roc_curve_by_hand", None, "right on a random probe and on one with tied scores")


@exercise_check
def val_auc(val_logits, y_val_wine, val_auc):
    """Exercise 3.2: the AUC of the validation logits."""
    truth = _exact_roc_area(_numpy("val_logits", val_logits), _numpy("y_val_wine", y_val_wine))
    got = float(to_tensor("val_auc", val_auc))
    expect(0 <= got <= 1, "val_auc", "is not between 0 and 1.")
    expect(math.isclose(got, truth, rel_tol=1e-6), "val_auc",
           "is not the area under the ROC curve of the validation logits.",
           "Apply your curve to val_logits and y_val_wine, then the trapezoid rule.")
    passed("val_auc", got)


@exercise_check
def threshold_choice(val_logits, y_val_wine, test_logits, y_test_wine, threshold,
                     test_precision, test_recall, baseline_accuracy):
    """Exercise 4: the largest logit threshold with validation recall >= TARGET_RECALL, then
    precision and recall on the test set, and the majority-class baseline."""
    scores, labels = _numpy("val_logits", val_logits).ravel(), _numpy("y", y_val_wine).ravel()
    positives = scores[labels == 1]

    def recall(t):
        return float(np.mean(positives >= t))

    def qualifies(t):
        above = scores[scores > t]
        return recall(t) >= TARGET_RECALL and (len(above) == 0 or
                                               recall(above.min()) < TARGET_RECALL)

    t = float(to_tensor("threshold", threshold))
    if 0 < t < 1 and not qualifies(t):
        as_logit = math.log(t / (1 - t))
        nearest = scores[np.argmin(np.abs(scores - as_logit))]  # undo float rounding
        as_logit = nearest if abs(nearest - as_logit) < 1e-4 else as_logit
    if 0 < t < 1 and not qualifies(t) and qualifies(as_logit):
        raise CheckFailed("threshold", "looks like a probability, but the rule is applied to "
                          "logits.", "Choose the threshold on the logit scale, the scale of "
                          "the scores you rank for the ROC curve.")
    expect(recall(t) >= TARGET_RECALL, "threshold",
           f"gives a recall of {recall(t):.3f} on the validation set, below "
           f"{TARGET_RECALL}.", "Predict 'good' when the logit is >= the threshold.")
    expect(qualifies(t), "threshold",
           f"is not the largest threshold with recall ≥ {TARGET_RECALL} on the validation "
           "set: a higher one reaches it too.",
           "Choose on the validation set only, and take the highest qualifying threshold.")
    test_scores, test_labels = (_numpy("test", a).ravel() for a in (test_logits, y_test_wine))
    predicted = test_scores >= t
    tp = np.sum(predicted & (test_labels == 1))
    true_precision = tp / max(np.sum(predicted), 1)
    true_recall = tp / np.sum(test_labels == 1)
    got_p, got_r = (float(to_tensor(n, v)) for n, v in [("test_precision", test_precision),
                                                         ("test_recall", test_recall)])
    expect(not (math.isclose(got_p, true_recall, rel_tol=1e-6)
                and math.isclose(got_r, true_precision, rel_tol=1e-6)
                and not math.isclose(true_precision, true_recall, rel_tol=1e-6)),
           "test_precision and test_recall", "are swapped.",
           "Precision: the fraction of predicted good wines that are good. Recall: the "
           "fraction of good wines that are predicted good.")
    expect_close("test_precision", got_p, true_precision, rtol=1e-6,
                 hint="TP / (TP + FP) on the test set, at your threshold.")
    expect_close("test_recall", got_r, true_recall, rtol=1e-6,
                 hint="TP / (TP + FN) on the test set, at your threshold.")
    expect_close("baseline_accuracy", baseline_accuracy, np.mean(test_labels == 0), rtol=1e-6,
                 hint="The accuracy on the test set of answering 'not good' for every wine.")
    passed("threshold, test_precision, test_recall and baseline_accuracy", None,
           f"threshold {t:.3f} on the logits; test precision {got_p:.3f}, recall {got_r:.3f}")


# ----------------------------------------------------------------------------- anomalous diffusion
@exercise_check
def andi_features(positions, andi_model, andi_numbers, labels, features):
    """Exercise 5.1: labels 0, 1, 2 in the order of model_names; standardised increments."""
    truth = np.array([list(andi_numbers).index(n) for n in np.asarray(andi_model)])
    expect(isinstance(labels, np.ndarray) and labels.shape == truth.shape, "labels",
           f"should be a NumPy array of shape {truth.shape}.")
    expect(np.array_equal(labels, truth), "labels",
           "do not number the models in the order of model_names.",
           "Map each AnDi number to its position in andi_numbers.")
    increments = np.diff(np.asarray(positions, dtype=np.float64), axis=1)
    spread = increments.std(axis=1, keepdims=True)
    expected = (increments - increments.mean(axis=1, keepdims=True)) / np.where(
        spread == 0, 1, spread)
    expect(isinstance(features, np.ndarray) and features.dtype == np.float32, "features",
           f"should be a float32 NumPy array, not {type(features).__name__} of "
           f"{getattr(features, 'dtype', '-')}.")
    expect(features.shape == expected.shape, "features",
           f"has shape {features.shape}, but should have shape {expected.shape}.",
           "One row per trajectory, its T - 1 increments.")
    expect(np.isfinite(features).all(), "features",
           "contains NaN: a trajectory whose increments are all zero (a CTRW walker that "
           "never left its trap) was divided by a zero standard deviation.",
           "Replace zero standard deviations by 1 before dividing.")
    row_means, row_stds = features.mean(axis=1), features.std(axis=1)
    expect(np.allclose(row_means, 0, atol=1e-4) and np.allclose(
        row_stds[spread.ravel() > 0], 1, atol=1e-3), "features",
           "are not standardised within each trajectory.",
           "Subtract the mean and divide by the standard deviation of each row (axis=1).")
    expect(np.allclose(features, expected, atol=1e-4), "features",
           "are not the standardised increments of the trajectories.")
    passed("labels and features", None, f"labels {np.bincount(truth).tolist()}, "
           f"features {features.shape}")


@exercise_check
def andi_split(features, labels, alpha, X_train, X_val, X_test, y_train, y_val, y_test,
               alpha_test):
    """Exercise 5.2: stratified 80/20, then 80/20 of the rest, as tensors."""
    from sklearn.model_selection import train_test_split

    f_trainval, f_test, l_trainval, l_test, _, a_test = train_test_split(
        features, labels, alpha, test_size=0.2, stratify=labels, random_state=0)
    f_train, f_val, l_train, l_val = train_test_split(
        f_trainval, l_trainval, test_size=0.2, stratify=l_trainval, random_state=0)
    unstratified_test = train_test_split(labels, test_size=0.2, random_state=0)[1]
    for name, value, dtype in [("X_train", X_train, torch.float32),
                               ("X_val", X_val, torch.float32),
                               ("X_test", X_test, torch.float32),
                               ("y_train", y_train, torch.int64),
                               ("y_val", y_val, torch.int64), ("y_test", y_test, torch.int64)]:
        expect(isinstance(value, torch.Tensor), name,
               f"is a {type(value).__name__}, not a tensor.")
        expect(value.dtype == dtype, name, f"is {value.dtype}, not {dtype}.",
               "Class labels for F.cross_entropy are int64 (torch.long).")
    for name, got, truth in [("y_test", y_test, l_test), ("y_val", y_val, l_val),
                             ("y_train", y_train, l_train)]:
        got = got.cpu().numpy()
        expect(len(got) == len(truth), name,
               f"holds {len(got)} trajectories; the split asked for gives {len(truth)}.")
        unstratified = name == "y_test" and np.array_equal(got, unstratified_test)
        expect(np.allclose(np.bincount(got, minlength=3) / len(got), 1 / 3, atol=0.01)
               and not unstratified, name,
               "does not hold the three models in equal shares: the split is not "
               "stratified.", "Pass stratify= with the labels to both splits.")
        expect(np.array_equal(got, truth), name, "is not the split asked for.",
               "Use random_state=0 in both splits.")
    for name, got, truth in [("X_train", X_train, f_train), ("X_val", X_val, f_val),
                             ("X_test", X_test, f_test), ("alpha_test", alpha_test, a_test)]:
        expect(np.allclose(_numpy(name, got), truth), name,
               "does not belong to the same split as the labels.",
               "Pass features, labels (and alpha) to the same train_test_split call.")
    passed("the split", None, f"{len(l_train)}/{len(l_val)}/{len(l_test)} trajectories")


@exercise_check
def andi_mlp(make_mlp, T):
    """Exercise 6.1: 99 -> 64 -> 32 -> 3 with ReLU, ending in logits."""
    model = call("make_mlp", make_mlp)
    expect(isinstance(model, nn.Module), "make_mlp()",
           f"returns a {type(model).__name__}, not an nn.Module.")
    layers = [(m.in_features, m.out_features) for m in model.modules()
              if isinstance(m, nn.Linear)]
    expect(layers == [(T - 1, 64), (64, 32), (32, 3)], "make_mlp()",
           "does not have the linear layers 99 → 64 → 32 → 3.")
    leaves = [m for m in model.modules() if not list(m.children())]
    expect(not isinstance(leaves[-1], (nn.Softmax, nn.LogSoftmax, nn.Sigmoid)), "make_mlp()",
           f"ends with {type(leaves[-1]).__name__}; F.cross_entropy applies the softmax "
           "itself and expects logits.", "End the network with its last nn.Linear.")
    output = call("make_mlp()", model, torch.zeros(4, T - 1))
    expect(tuple(output.shape) == (4, 3), "make_mlp()",
           f"maps a batch of shape (4, {T - 1}) to shape {tuple(output.shape)}, not (4, 3).")
    passed("make_mlp", None, "99 → 64 → 32 → 3, three logits")


@exercise_check
def cross_entropy_by_hand(cross_entropy_by_hand):
    """Exercise 6.2: mean cross-entropy from logits, stable for large logits."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=generator)
    targets = torch.randint(0, 5, (16,), generator=generator)
    for scale, what in [(1.0, "ordinary logits"), (1000.0, "large logits (around 1000)")]:
        got = call("cross_entropy_by_hand", cross_entropy_by_hand, scale * logits, targets)
        got = to_tensor("cross_entropy_by_hand(...)", got)
        expect(got.numel() == 1, "cross_entropy_by_hand",
               f"returns {got.numel()} numbers for a batch; it should return their mean.")
        truth = F.cross_entropy((scale * logits).double(), targets)
        expect(bool(torch.isfinite(got).all()), "cross_entropy_by_hand",
               f"returns {float(got)} for {what}: exp() overflowed.",
               "Subtract the largest logit of each row before exponentiating: the softmax "
               "does not change, and the log-sum-exp stays finite.")
        expect(not math.isclose(float(got), float(truth) * len(targets), rel_tol=1e-4),
               "cross_entropy_by_hand", "returns the sum over the batch, not the mean.")
        expect_close("cross_entropy_by_hand", got.reshape(()), truth, rtol=1e-4,
                     hint="For each sample: log-sum-exp of its logits minus the logit of its "
                          "target class; then the mean over the batch.")
    passed("cross_entropy_by_hand", None, "equals F.cross_entropy, also for large logits")


@exercise_check
def sgd_step(sgd_step):
    """Exercise 6.3: p <- p - lr * grad in place, gradients reset, on a probe."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 2, generator=generator).requires_grad_(True)
    bias = torch.randn(2, generator=generator).requires_grad_(True)
    grads = [torch.randn(3, 2, generator=generator), torch.randn(2, generator=generator)]
    before = [weight.detach().clone(), bias.detach().clone()]
    weight.grad, bias.grad = grads[0].clone(), grads[1].clone()
    call("sgd_step", sgd_step, [weight, bias], 0.1)
    for name, param, start, grad in zip(["weight", "bias"], [weight, bias], before, grads):
        expect(not torch.equal(param.detach(), start), "sgd_step",
               f"did not change the {name}: p = p - ... only makes a new tensor and leaves "
               "the parameter as it was.",
               "Update in place (-=) under torch.no_grad().")
        expect_close(f"the {name} after sgd_step", param.detach(), start - 0.1 * grad,
                     rtol=1e-6, atol=1e-7,
                     hint="Move each parameter against its gradient, scaled by lr.")
        expect(param.grad is None or not bool(param.grad.abs().gt(0).any()), "sgd_step",
               "leaves the gradients in .grad, so the next backward() adds to them.",
               "Reset every parameter's gradient after updating it.")
    passed("sgd_step", None, "updates in place against the gradient and resets it")


@exercise_check
def andi_trained(model, history, X_val, y_val, num_epochs):
    """Exercise 6.4: the trained classifier, its history and its restored best weights."""
    keys = {"train_loss", "val_loss", "val_acc"}
    expect(isinstance(history, dict) and keys <= set(history), "history",
           f"should have the keys {join_names(sorted(keys))}.")
    for key in keys:
        expect(len(history[key]) == num_epochs, "history",
               f'has {len(history[key])} entries in "{key}" for {num_epochs} epochs.')
    train_loss = history["train_loss"]
    expect(np.all(np.isfinite(train_loss)), "history", "holds NaN or infinite losses.")
    expect(train_loss[-1] < (1 - 1e-3) * train_loss[0], "history",
           "shows a network that did not learn: the training loss did not fall.",
           "Does the optimiser hold this model's parameters, and is step() called?")
    logits = _logits(model, X_val)
    accuracy = float((logits.argmax(dim=1) == y_val.cpu()).double().mean())
    expect(math.isclose(accuracy, max(history["val_acc"]), abs_tol=1e-6), "model",
           "does not have the validation accuracy of the best epoch in history.",
           "Restore the best state_dict at the end of train().")
    floor = None if get_profile() == "smoke" else 0.5
    expect(floor is None or accuracy >= floor, "model",
           f"reaches a validation accuracy of {accuracy:.3f}: not learned enough yet "
           f"(aim for {floor}).", "Check the learning rate and the number of epochs.")
    passed("model and history", None, f"best validation accuracy {accuracy:.3f} (guessing: "
           "0.333)")


@exercise_check
def andi_confusion(model, X_test, y_test, test_acc, cm):
    """Exercise 6.5: test accuracy and the confusion matrix (rows: true, columns: predicted)."""
    predicted = _logits(model, X_test).argmax(dim=1).numpy()
    true = y_test.cpu().numpy()
    expect_close("test_acc", test_acc, np.mean(predicted == true), rtol=1e-6,
                 hint="The fraction of test trajectories whose predicted class is right.")
    truth = np.zeros((3, 3))
    np.add.at(truth, (true, predicted), 1)
    got = _numpy("cm", cm)
    expect(got.shape == (3, 3), "cm", f"has shape {got.shape}, not (3, 3).")
    expect(math.isclose(got.sum(), len(true)), "cm",
           "holds fractions, not counts: it should count every test trajectory once.",
           "confusion_matrix without normalize=.")
    expect_close("cm", got, truth, rtol=0, atol=0.5,
                 hint="Rows are the true models, columns the predicted ones, in the order of "
                      "model_names.")
    passed("test_acc and cm", float(test_acc))


@exercise_check
def accuracy_by_alpha(model, X_test, y_test, alpha_test, exponents, accuracy_by_alpha):
    """Exercise 6.6: the test accuracy for each exponent separately."""
    correct = _logits(model, X_test).argmax(dim=1).numpy() == y_test.cpu().numpy()
    alpha_test = np.asarray(alpha_test)
    truth = [correct[np.isclose(alpha_test, a)].mean() for a in exponents]
    got = _numpy("accuracy_by_alpha", accuracy_by_alpha).ravel()
    expect(len(got) == len(exponents), "accuracy_by_alpha",
           f"has {len(got)} entries for {len(exponents)} exponents.")
    expect(not np.allclose(got, correct.mean()) or np.allclose(truth, correct.mean()),
           "accuracy_by_alpha", "holds the overall test accuracy in every entry.",
           "Select the test trajectories with each exponent before averaging.")
    expect_close("accuracy_by_alpha", got, truth, rtol=1e-6,
                 labels=[f"alpha = {a}" for a in exponents],
                 hint="For each exponent: the mean of 'prediction is right' over the test "
                      "trajectories with that exponent (alpha_test).")
    passed("accuracy_by_alpha", got)


@exercise_check
def wrong_rows(model, X_test, y_test, wrong_rows):
    """Exercise 6.7: the indices of the misclassified test trajectories."""
    mistakes = np.flatnonzero(_logits(model, X_test).argmax(dim=1).numpy()
                              != y_test.cpu().numpy())
    got = np.sort(_numpy("wrong_rows", wrong_rows).astype(np.int64).ravel())
    expect(np.all((got >= 0) & (got < len(y_test))), "wrong_rows",
           "holds numbers that are not row indices of the test set.")
    expect(np.isin(got, mistakes).all(), "wrong_rows",
           "includes trajectories that the network classified correctly.",
           "A row is a mistake when the predicted model differs from the true one.")
    expect(len(got) == len(mistakes), "wrong_rows",
           f"holds {len(got)} rows, but the network misclassified {len(mistakes)}.")
    passed("wrong_rows", None, f"{len(mistakes)} misclassified test trajectories")


@exercise_check
def optimizer_runs(histories, num_epochs):
    """Exercise 7.1: SGD, Adagrad and Adam, each trained for num_epochs."""
    names = {"SGD", "Adagrad", "Adam"}
    expect(isinstance(histories, dict) and set(histories) == names, "histories",
           f"should have the keys {join_names(sorted(names))}.")
    for name, run in histories.items():
        losses = run["train_loss"]
        expect(len(losses) == num_epochs, f'histories["{name}"]',
               f"has {len(losses)} epochs, not {num_epochs}.")
        expect(np.all(np.isfinite(losses)) and losses[-1] < (1 - 1e-3) * losses[0],
               f'histories["{name}"]',
               "shows a network that did not learn: the training loss did not fall.",
               "Give each optimiser the parameters of the network it should train.")
    passed("histories", None, ", ".join(f"{name} {max(run['val_acc']):.3f}"
                                        for name, run in histories.items()))


@exercise_check
def best_optimizer(histories, trained, X_test, y_test, best_optimizer, best_test_acc):
    """Exercise 7.2: the optimiser chosen by validation accuracy, and its network's test
    accuracy."""
    expect(best_optimizer in histories, "best_optimizer",
           f"is {best_optimizer!r}, not one of {join_names(sorted(histories))}.")
    best = max(max(run["val_acc"]) for run in histories.values())
    expect(max(histories[best_optimizer]["val_acc"]) == best, "best_optimizer",
           "is not the optimiser whose network reached the best validation accuracy.",
           "Compare the best validation accuracy of each run; the test set plays no part.")
    predicted = _logits(trained[best_optimizer], X_test).argmax(dim=1).numpy()
    expect_close("best_test_acc", best_test_acc, np.mean(predicted == y_test.cpu().numpy()),
                 rtol=1e-6, hint="The test accuracy of the chosen network, and of no other.")
    passed("best_optimizer and best_test_acc", None,
           f"{best_optimizer}, test accuracy {float(best_test_acc):.3f}")
