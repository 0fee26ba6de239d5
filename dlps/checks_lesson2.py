"""Checks for the exercises of Lesson 2 (exercises/02_regression).

Each function is called by the check cell after one gap and works out the right answer itself,
from the inputs it is given; see ``dlps.checks`` for the conventions.  Training results are
stochastic: the checks test what every correct run shows (the right structure, a loss that
fell) and, from the ``laptop`` profile up, floors that a trained network clears.
"""

from __future__ import annotations

import math

import numpy as np
import torch
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

_LAYERS = [(8, 24), (24, 12), (12, 6), (6, 1)]  # the lesson's network, (inputs, outputs)


@exercise_check
def ohms_law(current, voltage, resistance, offset):
    """Exercise 1: slope and intercept of U = R I + U0 from gradient descent."""
    x = to_tensor("current", current).flatten().numpy()
    y = to_tensor("voltage", voltage).flatten().numpy()
    true_r, true_u0 = np.polyfit(x, y, deg=1)  # the least-squares line
    got_r = float(to_tensor("resistance", resistance).flatten()[0])
    got_u0 = float(to_tensor("offset", offset).flatten()[0])
    swapped = math.isclose(got_r, true_u0, rel_tol=1e-2) and math.isclose(
        got_u0, true_r, rel_tol=1e-2)
    expect(not swapped, "resistance and offset", "are swapped.",
           "In nn.Linear the slope is the weight and the intercept the bias.")
    for name, got, truth in [("resistance", got_r, true_r), ("offset", got_u0, true_u0)]:
        error = abs(got - truth) / abs(truth)
        expect(error < 1e-3, name,
               f"is {100 * error:.2g} % away from the least-squares value: the fit has not "
               "converged.", "Take more gradient-descent steps, and reset the gradients in "
               "every step.")
    passed("resistance and offset", None,
           f"R = {got_r:.4f} Ω, U0 = {got_u0:.4f} V, the least-squares line")


@exercise_check
def curve_fits(curve_histories, curve_steps):
    """Exercise 2.1: three networks of growing size fitted to the same noisy curve."""
    expect(isinstance(curve_histories, dict) and len(curve_histories) == 3, "curve_histories",
           "should hold three histories, one per network.")
    for name, history in curve_histories.items():
        expect(isinstance(history, dict) and {"train", "val"} <= set(history),
               f'curve_histories["{name}"]', "is not a history returned by fit_curve().")
        for key in ("train", "val"):
            expect(len(history[key]) == curve_steps, f'curve_histories["{name}"]',
                   f'has {len(history[key])} "{key}" losses for {curve_steps} steps.')
        expect(bool(np.all(np.isfinite(history["train"]))), f'curve_histories["{name}"]',
               "holds NaN or infinite losses.")
        expect(history["train"][-1] < history["train"][0], f'curve_histories["{name}"]',
               "shows a network that did not learn: its training loss did not fall.")
    final_train = [history["train"][-1] for history in curve_histories.values()]
    expect(final_train[-1] < final_train[0], "curve_histories",
           "do not grow in flexibility: the last network ends with a higher training loss "
           "than the first.", "Order the networks from the smallest to the largest.")
    passed("curve_histories", None, "final training MSE " + ", ".join(
        f"{name} {history['train'][-1]:.4f}" for name, history in curve_histories.items()))


@exercise_check
def fit_diagnosis(curve_histories, underfit_name, overfit_name):
    """Exercise 2.2: which network underfits (worst on its own training points) and which
    overfits (the widest gap between validation and training loss)."""
    names = list(curve_histories)
    for label, value in [("underfit_name", underfit_name), ("overfit_name", overfit_name)]:
        expect(value in curve_histories, label,
               f"is {value!r}, not one of {join_names(repr(n) for n in names)}.")
    final = {name: (h["train"][-1], h["val"][-1]) for name, h in curve_histories.items()}
    underfits = max(names, key=lambda name: final[name][0])
    overfits = max(names, key=lambda name: final[name][1] / final[name][0])
    expect(underfit_name == underfits, "underfit_name",
           "is not the network that underfits.",
           "Underfitting: the network cannot even follow its own training points.")
    expect(overfit_name == overfits, "overfit_name",
           "is not the network that overfits the most.",
           "Overfitting: the training loss keeps falling while the validation loss stays "
           "far above it (or rises).")
    passed("underfit_name and overfit_name", None,
           f"{underfit_name} underfits, {overfit_name} overfits")


def _standardise(frame, reference) -> torch.Tensor:
    values, ref = np.asarray(frame, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return torch.tensor((values - ref.mean(axis=0)) / ref.std(axis=0))


@exercise_check
def standardised(X_train, X_val, X_test, X_train_t, X_val_t, X_test_t):
    """Exercise 3: all three sets standardised with the training statistics, as float32."""
    for name, frame, got in [("X_train_t", X_train, X_train_t), ("X_val_t", X_val, X_val_t),
                             ("X_test_t", X_test, X_test_t)]:
        expect(isinstance(got, torch.Tensor), name,
               f"is a {type(got).__name__}, not a tensor.")
        expect(got.dtype == torch.float32, name,
               f"is {got.dtype}; the network's weights are float32.",
               "Convert with dtype=torch.float32 (the helper to_tensor does).")
        truth = _standardise(frame, X_train)
        expect(tuple(got.shape) == tuple(truth.shape), name,
               f"has shape {tuple(got.shape)}, but the set has {tuple(truth.shape)}.")
        got = got.detach().cpu().double()
        if torch.allclose(got, truth, rtol=1e-4, atol=1e-4):
            continue
        expect(not torch.allclose(got, torch.as_tensor(np.asarray(frame, dtype=np.float64)),
                                  rtol=1e-4, atol=1e-4), name, "is not standardised at all.")
        expect(name == "X_train_t" or not torch.allclose(got, _standardise(frame, frame),
                                                          rtol=1e-4, atol=1e-4),
               name, "was standardised with its own statistics.",
               "Use the mean and standard deviation of the training set for every set: the "
               "model must see new data on the training scale.")
        raise CheckFailed(name, "was scaled with means and standard deviations that are not "
                          "those of the training set: did the scaler see validation or test "
                          "rows?", "Fit the scaler on the training set only, then transform "
                          "all three sets with it.")
    passed("X_train_t, X_val_t and X_test_t", None, "float32, scaled with training statistics")


def _linear_layers(model) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


@exercise_check
def make_mlp(make_mlp):
    """Exercise 4.1: the 8 -> 24 -> 12 -> 6 -> 1 network with a chosen activation."""
    model = call("make_mlp", make_mlp, nn.Tanh)
    expect(isinstance(model, nn.Module), "make_mlp(nn.Tanh)",
           f"returns a {type(model).__name__}, not an nn.Module.")
    layers = [(m.in_features, m.out_features) for m in _linear_layers(model)]
    shown = ", ".join(f"{a}→{b}" for a, b in layers)
    expect(layers == _LAYERS, "make_mlp(nn.Tanh)",
           f"has the linear layers {shown or 'none'}, not those of the lesson's network.",
           "Four nn.Linear layers: 8 → 24 → 12 → 6 → 1.")
    children = list(model.children()) if isinstance(model, nn.Sequential) else []
    tanh = [m for m in model.modules() if isinstance(m, nn.Tanh)]
    expect(len(tanh) == 3, "make_mlp(nn.Tanh)",
           f"has {len(tanh)} Tanh modules; there should be one after each hidden layer.",
           "Call activation() after each hidden nn.Linear, not after the output layer.")
    expect(not children or isinstance(children[-1], nn.Linear), "make_mlp(nn.Tanh)",
           f"ends with {type(children[-1]).__name__} after the output layer; a regression "
           "output must be free to take any value.", "End with the last nn.Linear.")
    output = call("make_mlp(nn.Tanh)", model, torch.zeros(5, 8))
    expect(tuple(output.shape) == (5, 1), "make_mlp(nn.Tanh)",
           f"maps a batch of shape (5, 8) to shape {tuple(output.shape)}, not (5, 1).")
    passed("make_mlp", None, "8 → 24 → 12 → 6 → 1 with the chosen activation in between")


@exercise_check
def num_params(make_mlp, num_params):
    """Exercise 4.2: the number of parameters, counted by hand."""
    model = call("make_mlp", make_mlp, nn.ReLU)
    truth = sum(p.numel() for p in model.parameters())
    weights_only = sum(a * b for a, b in _LAYERS)
    got = to_tensor("num_params", num_params)
    expect(got.numel() == 1, "num_params", f"holds {got.numel()} numbers instead of one.")
    got = float(got)
    expect(got != weights_only, "num_params", "leaves out the biases.",
           "A Linear(n_in, n_out) layer has a weight matrix and one bias per output.")
    expect(got == truth, "num_params", "is not the number of parameters of the network.",
           "Add up, layer by layer, the weights and the biases of each nn.Linear.")
    passed("num_params", int(got), "the same as sum(p.numel() for p in model.parameters())")


def _check_history(name: str, history, num_epochs: int) -> None:
    """A history from the page's train(): complete, finite and with a loss that fell."""
    expect(isinstance(history, dict) and "val" in history and "val_before" in history, name,
           "is not a history returned by train().")
    val = history["val"]
    expect(len(val) == num_epochs, name,
           f"has {len(val)} validation losses; training for {num_epochs} epochs gives "
           f"{num_epochs}.")
    expect(bool(np.all(np.isfinite(val))), name, "holds NaN or infinite losses.",
           "The learning rate may be too large.")
    expect(min(val) < history["val_before"], name,
           "shows a network that did not learn: the validation loss never fell below its "
           "value before training.",
           "Does the optimiser hold this network's parameters, and does the loop call "
           "optimizer.step()?")


def _val_mse(model, X, y) -> float:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        device = next(model.parameters()).device
        value = float(((model(X.to(device)) - y.to(device)) ** 2).mean())
    model.train(was_training)
    return value


@exercise_check
def activation_runs(activations, activation_histories, activation_nets, num_epochs,
                    X_val_t, y_val_t, mean_predictor_mse):
    """Exercise 4.3: one trained network per activation, with its history."""
    for name, value in [("activation_histories", activation_histories),
                        ("activation_nets", activation_nets)]:
        expect(isinstance(value, dict) and set(value) == set(activations), name,
               f"should have the keys {join_names(sorted(activations))}.")
    floor = None if get_profile() == "smoke" else 0.6 * mean_predictor_mse
    for name in activations:
        _check_history(f'activation_histories["{name}"]', activation_histories[name],
                       num_epochs)
        net = activation_nets[name]
        best = min(activation_histories[name]["val"])
        expect(math.isclose(_val_mse(net, X_val_t, y_val_t), best, rel_tol=1e-3),
               f'activation_nets["{name}"]',
               "does not have the validation loss of the best epoch of its history.",
               "Keep the network you trained (train() restores its best weights).")
        expect(floor is None or best < floor, f'activation_histories["{name}"]',
               "reached a validation MSE that a trained network beats easily: not learned "
               "enough yet.", "Check the learning rate and the number of epochs.")
    shown = ", ".join(f"{name} {math.sqrt(min(h['val'])):.3f}"
                      for name, h in activation_histories.items())
    passed("activation_histories and activation_nets", None,
           f"best validation RMSE: {shown}")


@exercise_check
def dropout_mlp(DropoutMLP, X_val_t):
    """Exercise 5.1: a Module subclass with dropout after each hidden activation."""
    expect(isinstance(DropoutMLP, type) and issubclass(DropoutMLP, nn.Module), "DropoutMLP",
           "is not a subclass of nn.Module.", "class DropoutMLP(nn.Module): ...")
    model = call("DropoutMLP", DropoutMLP, 0.2)
    layers = [(m.in_features, m.out_features) for m in _linear_layers(model)]
    expect(layers == _LAYERS, "DropoutMLP(0.2)",
           "does not have the linear layers 8 → 24 → 12 → 6 → 1.",
           "Create the layers as attributes in __init__, after super().__init__().")
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    expect(len(dropouts) == 3, "DropoutMLP(0.2)",
           f"has {len(dropouts)} dropout layers; the exercise puts one after each of the "
           "three hidden activations.")
    expect(all(m.p == 0.2 for m in dropouts), "DropoutMLP(0.2)",
           "does not pass p on to its dropout layers.")
    batch = X_val_t[:64].to(next(model.parameters()).device)
    with torch.no_grad():
        model.train()
        first, second = call("DropoutMLP.forward", model, batch), model(batch)
        expect(tuple(first.shape) == (len(batch), 1), "DropoutMLP.forward",
               f"returns shape {tuple(first.shape)} for a batch of {len(batch)}.")
        expect(not torch.equal(first, second), "DropoutMLP.forward",
               "gives the same output twice in train mode: no dropout is applied.",
               "Use the nn.Dropout layers in forward().")
        model.eval()
        first, second = model(batch), model(batch)
    expect(torch.equal(first, second), "DropoutMLP.forward",
           "is still random in eval mode.",
           "Use nn.Dropout modules (they follow model.eval()), or pass "
           "training=self.training to F.dropout.")
    passed("DropoutMLP", None, "three dropout layers, random in train mode, fixed in eval mode")


@exercise_check
def dropout_run(DropoutMLP, dropout_net, dropout_history, num_epochs):
    """Exercise 5.2: the trained dropout network and its history."""
    expect(isinstance(dropout_net, DropoutMLP), "dropout_net",
           "is not a DropoutMLP.")
    expect(all(m.p == 0.2 for m in dropout_net.modules() if isinstance(m, nn.Dropout)),
           "dropout_net", "does not use p = 0.2.")
    _check_history("dropout_history", dropout_history, num_epochs)
    passed("dropout_history", None, f"best validation RMSE "
           f"{math.sqrt(min(dropout_history['val'])):.3f}")


@exercise_check
def optimizer_runs(optimizer_histories, num_epochs):
    """Exercise 6: SGD, Adam and RMSprop (at least) from the same initial weights."""
    expect(isinstance(optimizer_histories, dict) and len(optimizer_histories) >= 3,
           "optimizer_histories", "should hold at least three histories.")
    for wanted in ("SGD", "Adam", "RMSprop"):
        expect(any(wanted.lower() in name.lower() for name in optimizer_histories),
               "optimizer_histories", f"has no entry whose name mentions {wanted}.")
    for name, history in optimizer_histories.items():
        _check_history(f'optimizer_histories["{name}"]', history, num_epochs)
    before = [history["val_before"] for history in optimizer_histories.values()]
    expect(np.allclose(before, before[0], rtol=1e-6, atol=0), "optimizer_histories",
           "do not all start from the same weights: their validation losses before "
           "training differ.", "Give each optimiser its own copy.deepcopy of one network.")
    passed("optimizer_histories", None,
           f"{len(optimizer_histories)} optimisers from the same initial weights")


@exercise_check
def batching(batch_counts, num_train, shuffled_differs, ordered_same):
    """Exercise 7.1: batches per epoch, the last batch, drop_last and shuffling."""
    expect(isinstance(batch_counts, dict) and set(batch_counts) == {16, 128, 1024},
           "batch_counts", "should have the keys 16, 128 and 1024.")
    for size, entry in batch_counts.items():
        expect(isinstance(entry, tuple) and len(entry) == 3, f"batch_counts[{size}]",
               "should be (number of batches, sizes of the batches, number of batches "
               "with drop_last=True).")
        count, sizes_seen, dropped = entry
        expect(count == len(sizes_seen) and sum(sizes_seen) == num_train,
               f"batch_counts[{size}]", "does not describe one full pass over the "
               "training set.", "Record the length of every batch in one pass.")
        expect(count == math.ceil(num_train / size) and sizes_seen[-1] == num_train - (
            count - 1) * size, f"batch_counts[{size}]",
               "does not come from a DataLoader with this batch size.")
        expect(dropped == num_train // size, f"batch_counts[{size}]",
               "has the wrong number of batches with drop_last=True.",
               "Make a second loader with drop_last=True and take its len().")
    expect(shuffled_differs is True, "shuffled_differs",
           "is not True, but a shuffled loader gives a new order in every pass.",
           "Compare the first batch of two separate passes (two iter(...) calls).")
    expect(ordered_same is True, "ordered_same", "is not True.")
    passed("batch_counts and shuffling", None,
           ", ".join(f"{size}: {entry[0]} batches" for size, entry in batch_counts.items()))


@exercise_check
def batch_size_runs(batch_histories, batch_sizes, num_epochs):
    """Exercise 7.2: one training run per batch size."""
    wanted = {f"batch size {size}" for size in batch_sizes}
    expect(isinstance(batch_histories, dict) and set(batch_histories) == wanted,
           "batch_histories", f"should have the keys {join_names(sorted(wanted))}.")
    for name, history in batch_histories.items():
        _check_history(f'batch_histories["{name}"]', history, num_epochs)
    curves = [tuple(history["val"]) for history in batch_histories.values()]
    expect(len(set(curves)) == len(curves), "batch_histories",
           "holds identical runs: the batch size made no difference at all.",
           "Give each run a loader with its own batch size.")
    passed("batch_histories", None, f"{len(curves)} runs with different batch sizes")


@exercise_check
def final_score(activation_histories, activation_nets, X_test_t, y_test_t, best_name,
                test_rmse, test_r2):
    """Exercise 8.1: the network chosen on validation data, scored once on the test set."""
    expect(best_name in activation_histories, "best_name",
           f"is {best_name!r}, not one of the networks of Exercise 3.")
    chosen = min(activation_histories, key=lambda name: min(activation_histories[name]["val"]))
    expect(best_name == chosen, "best_name",
           "is not the network with the lowest validation loss.",
           "Choose on validation data only; the test set is for the one final report.")
    net = activation_nets[best_name]
    mse = _val_mse(net, X_test_t, y_test_t)
    y = to_tensor("y_test_t", y_test_t)
    true_r2 = 1 - mse * len(y) / float(((y - y.mean()) ** 2).sum())
    got_rmse = float(to_tensor("test_rmse", test_rmse))
    expect(not math.isclose(got_rmse, mse, rel_tol=1e-3), "test_rmse",
           "looks like the mean squared error, not its square root.")
    expect_close("test_rmse", got_rmse, math.sqrt(mse), rtol=1e-3,
                 hint="RMSE on the test set, in $100 000, of the network chosen above.")
    expect_close("test_r2", test_r2, true_r2, rtol=1e-3,
                 hint="R² = 1 - RSS/TSS, with TSS the sum of squared deviations of the test "
                      "targets from their own mean.")
    passed("best_name, test_rmse and test_r2", None,
           f"{best_name}: test RMSE {got_rmse:.4f}, R² {float(to_tensor('r2', test_r2)):.4f}")


@exercise_check
def baselines(X_train_t, y_train_t, X_test_t, y_test_t, baseline_rmse):
    """Exercise 8.2: linear regression (recomputed here) and gradient boosting (range)."""
    from sklearn.linear_model import LinearRegression

    keys = {"linear regression", "gradient boosting"}
    expect(isinstance(baseline_rmse, dict) and set(baseline_rmse) == keys, "baseline_rmse",
           f"should have the keys {join_names(sorted(keys))}.")
    X_train, X_test = (to_tensor("X", X).numpy() for X in (X_train_t, X_test_t))
    y_train, y_test = (to_tensor("y", y).numpy().ravel() for y in (y_train_t, y_test_t))
    linear = LinearRegression().fit(X_train, y_train)
    true_linear = float(np.sqrt(np.mean((linear.predict(X_test) - y_test) ** 2)))
    got_linear = float(to_tensor("linear regression", baseline_rmse["linear regression"]))
    expect(math.isclose(got_linear, true_linear, rel_tol=1e-3),
           'baseline_rmse["linear regression"]',
           "is not the test RMSE of a linear regression fitted on the training set.",
           "fit() on the training data, predict() on the test data.")
    got_boosting = float(to_tensor("gradient boosting", baseline_rmse["gradient boosting"]))
    expect(0 < got_boosting < true_linear, 'baseline_rmse["gradient boosting"]',
           "is not below the linear model's RMSE, as boosted trees on this data always are.",
           "Fit HistGradientBoostingRegressor on the training set, score it on the test set.")
    passed("baseline_rmse", None,
           f"linear {got_linear:.4f}, gradient boosting {got_boosting:.4f}")
