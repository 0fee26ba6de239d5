"""Checks for the exercises of Lesson 6 (exercises/06_force_fields).

Each function is called by the check cell after one gap and works out the right answer itself,
with DScribe, ASE and the learner's own objects (never from a stored number); see
``dlps.checks`` for the conventions.  Trained networks are stochastic: the checks test what
every correct run shows (the right data went in, the right quantity came out) and, from the
``laptop`` profile up (``strict=True``), floors that a trained network clears.
"""

from __future__ import annotations

import numpy as np
import torch

from .checks import CheckFailed, call, exercise_check, expect, expect_close, passed, to_tensor

_METHODS = ("analytical", "numerical", "auto")


def _coulomb(permutation: str):
    from dscribe.descriptors import CoulombMatrix

    return CoulombMatrix(n_atoms_max=2, permutation=permutation)


def _distances(structures) -> np.ndarray:
    return np.array([atoms.get_distance(0, 1) for atoms in structures])


@exercise_check
def derivative_methods(supported, structures):
    """Exercise 1.1: which ``method`` values CoulombMatrix.derivatives accepts."""
    expect(isinstance(supported, dict), "supported", f"is a {type(supported).__name__}, not "
           "a dict.", 'Map each method name to True or False, e.g. {"auto": True, ...}.')
    missing = [m for m in _METHODS if m not in supported]
    expect(not missing, "supported", f"has no entry for {', '.join(map(repr, missing))}.",
           "Try all three methods.")
    probe = _coulomb("eigenspectrum")
    for method in _METHODS:
        try:
            probe.derivatives(structures[0], method=method)
            works = True
        except ValueError:
            works = False
        expect(isinstance(supported[method], (bool, np.bool_)), f'supported["{method}"]',
               f"is {supported[method]!r}; store True if the call works, False if it raises.")
        expect(bool(supported[method]) == works, f'supported["{method}"]', "is wrong.",
               "Call derivatives(structures[0], method=...) inside try/except ValueError "
               "and record what happened, instead of guessing.")
    passed("supported", supported, "what DScribe does for each method")


@exercise_check
def permutation_options(cm_sorted, cm_eigen, structures):
    """Exercise 1.2: the Coulomb matrix of every dimer, sorted and as eigenvalues."""
    for name, got, permutation in (("cm_sorted", cm_sorted, "sorted_l2"),
                                   ("cm_eigen", cm_eigen, "eigenspectrum")):
        expected = _coulomb(permutation).create(structures)
        expect_close(name, got, expected, rtol=1e-6, atol=1e-9,
                     hint=f'Create it with CoulombMatrix(n_atoms_max=2, permutation='
                          f'"{permutation}") for all structures at once.')
    passed("cm_sorted and cm_eigen", None,
           f"{len(structures)} dimers, shapes {tuple(np.shape(cm_sorted))} and "
           f"{tuple(np.shape(cm_eigen))}")


@exercise_check
def cm_descriptors(C_all, dC_all, structures):
    """Exercise 1.3: eigenspectrum descriptors of all dimers and their derivatives."""
    C = to_tensor("C_all", C_all)
    expect(C.dim() == 2 and C.shape[0] == len(structures), "C_all",
           f"has shape {tuple(C.shape)}; it needs one row per structure.")
    constant = [k for k in range(C.shape[1]) if float(C[:, k].std()) < 1e-9]
    expect(not constant, "C_all", f"has {len(constant)} feature(s) that are the same for every "
           "dimer: standardising them would divide by zero.",
           "Use the permutation option in which every feature changes with the distance.")
    jacobian, descriptors = _coulomb("eigenspectrum").derivatives(structures,
                                                                  method="numerical")
    expect_close("C_all", C_all, descriptors, rtol=1e-6, atol=1e-9,
                 hint='Use CoulombMatrix(n_atoms_max=2, permutation="eigenspectrum").')
    expect_close("dC_all", dC_all, jacobian, rtol=1e-5, atol=1e-8,
                 hint="Take both arrays from one derivatives(...) call; it returns the "
                      "derivatives first and the descriptors second.")
    passed("C_all and dC_all", None, f"shapes {tuple(np.shape(C_all))} and "
           f"{tuple(np.shape(dC_all))}, derivatives as DScribe computes them")


@exercise_check
def cm_deriv_error(cm_deriv_error, dC_all, structures):
    """Exercise 1.4: the largest relative error of DScribe's numerical derivatives."""
    try:
        value = float(cm_deriv_error)
    except (TypeError, ValueError):
        raise CheckFailed("cm_deriv_error", f"is a {type(cm_deriv_error).__name__}, not a "
                          "number.") from None
    expect(np.isfinite(value), "cm_deriv_error", "is NaN or infinite.",
           "The y and z derivatives are zero: divide by the largest derivative, not entry by "
           "entry.")
    expect(value >= 0, "cm_deriv_error", "is negative; an error is a size.",
           "Take absolute values.")
    expect(value < 1e-3, "cm_deriv_error", "is far too large for finite differences: your "
           "exact derivatives are not those of the eigenvalues.",
           "Check the sign of the gradient of 1/r for each atom, and which feature is "
           "1/2 + 1/r and which 1/2 - 1/r.")
    got = to_tensor("dC_all", dC_all)
    expect(got.shape[0] == len(structures), "dC_all", "does not cover every structure.")
    # recompute the error from calculus: a typed-in or zero value must not pass
    exact = np.zeros(tuple(got.shape))
    for n, atoms in enumerate(structures):
        bond = atoms.positions[1] - atoms.positions[0]
        gradient = bond / np.linalg.norm(bond) ** 3  # d(1/r)/d r_0
        for sign, feature in ((1, 0), (-1, 1)):
            exact[n, 0, :, feature] = sign * gradient
            exact[n, 1, :, feature] = -sign * gradient
    error = float(np.abs(got.numpy() - exact).max() / np.abs(exact).max())
    expect(np.isclose(value, error, rtol=0.05, atol=1e-12), "cm_deriv_error",
           "does not match the largest difference between dC_all and the exact derivatives "
           "(divided by the largest exact derivative).",
           "Compute it from the arrays; do not type in a number.")
    passed("cm_deriv_error", value, "DScribe's finite differences agree with calculus")


def _energy_and_forces(model, D, dD):
    """The lesson's chain rule, on the model's device and dtype."""
    parameter = next(model.parameters())
    D = torch.as_tensor(D, dtype=parameter.dtype, device=parameter.device)
    D = D.detach().requires_grad_(True)
    dD = torch.as_tensor(dD, dtype=parameter.dtype, device=parameter.device)
    energy = model(D)
    (gradient,) = torch.autograd.grad(energy.sum(), D)
    if dD.dim() == 4:  # one descriptor per structure: (B, atoms, 3, K)
        forces = -torch.einsum("baxk,bk->bax", dD, gradient)
    else:  # one descriptor per atom: (B, centres, atoms, 3, K)
        forces = -torch.einsum("bijxk,bik->bjx", dD, gradient)
    return energy.detach().cpu().double(), forces.detach().cpu().double()


@exercise_check
def cm_training(model_cm, history_cm, C_t, dC_t, C_all, dC_all, train_idx, val_idx,
                energies, forces, strict=True):
    """Exercise 2.1-2: standardised inputs, a trained network, the best weights kept."""
    C = to_tensor("C_t", C_t)
    expect(tuple(C.shape) == tuple(np.shape(C_all)), "C_t",
           f"has shape {tuple(C.shape)}; it should hold the scaled C_all, all structures.")
    train = torch.as_tensor(np.asarray(train_idx))
    mean, std = C[train].mean(0), C[train].std(0, unbiased=False)
    expect(bool(mean.abs().max() < 1e-4) and bool((std - 1).abs().max() < 1e-3), "C_t",
           "is not standardised with the statistics of the training structures: over them, "
           "each feature should have mean 0 and standard deviation 1.",
           "Compute mean and standard deviation from C_all[train_idx] only, then apply them "
           "to all structures.")
    scale = np.asarray(C_all)[np.asarray(train_idx)].std(axis=0)
    dC = to_tensor("dC_t", dC_t)
    if dC.shape == tuple(np.shape(dC_all)) and torch.allclose(
            dC, to_tensor("dC_all", dC_all), rtol=1e-4, atol=1e-7):
        raise CheckFailed("dC_t", "holds the raw derivatives: they were not divided by the "
                          "standard deviations of the descriptors.",
                          "If D is divided by s, so is every derivative of D.")
    expect_close("dC_t", dC, np.asarray(dC_all) / scale, rtol=1e-4, atol=1e-6,
                 hint="Divide dC_all by the training standard deviations (the mean drops out "
                      "of a derivative).")
    history = [float(v) for v in history_cm]
    expect(len(history) > 0 and np.all(np.isfinite(history)), "history_cm",
           "is empty or holds NaN; append the validation loss after every epoch.")
    E_pred, F_pred = _energy_and_forces(model_cm, C, dC)
    E_true = torch.as_tensor(np.asarray(energies), dtype=torch.float64)
    F_true = torch.as_tensor(np.asarray(forces), dtype=torch.float64)
    expect(bool(torch.isfinite(E_pred).all()), "model_cm", "predicts NaN or infinity.")
    # the best validation loss in history_cm must be the validation loss of the kept weights
    val = torch.as_tensor(np.asarray(val_idx))

    def loss_on(rows):
        return float(((E_pred[rows] - E_true[rows]) ** 2).mean() / E_true[train].var()
                     + ((F_pred[rows] - F_true[rows]) ** 2).mean() / F_true[train].var())

    best = min(history)
    if np.isclose(best, loss_on(train), rtol=1e-2) and not np.isclose(best, loss_on(val),
                                                                      rtol=1e-2):
        raise CheckFailed("history_cm", "holds losses on the training structures: the "
                          "validation loss must come from the validation structures, which "
                          "the optimiser never sees.", "Evaluate on C_t[val_idx] after each "
                          "step, and pick the best epoch by that loss.")
    expect(np.isclose(best, loss_on(val), rtol=1e-2), "model_cm",
           "does not hold the weights of the best validation epoch: its validation loss is "
           "not the smallest value in history_cm.",
           "Keep a deep copy of the state_dict at each new best and load it at the end.")
    if strict:
        expect(min(history) < 0.1 * history[0], "history_cm",
               "fell by less than a factor 10: the network has not learned enough yet.",
               "Train longer (max_epochs, patience) with the learning rate of the lesson.")
        val = torch.as_tensor(np.asarray(val_idx))
        loss = (((E_pred[val] - E_true[val]) ** 2).mean() / E_true[train].var()
                + ((F_pred[val] - F_true[val]) ** 2).mean() / F_true[train].var())
        expect(float(loss) <= 1.1 * min(history), "model_cm",
               "does not hold the weights of the best validation epoch.",
               "Keep a deep copy of the state_dict at each new best and load it at the end.")
    passed("model_cm", None, f"best validation loss {min(history):.2e} after {len(history)} "
           "epochs, inputs scaled with training statistics")


@exercise_check
def cm_errors(mae_energy_cm, mae_force_cm, E_cm, F_cm, energies, forces, train_idx, val_idx,
              strict=True):
    """Exercise 2.3: errors of the Coulomb-matrix force field on the held-out structures."""
    E_pred, F_pred = to_tensor("E_cm", E_cm), to_tensor("F_cm", F_cm)
    E_true, F_true = to_tensor("energies", energies), to_tensor("forces", forces)
    expect(tuple(E_pred.shape) == tuple(E_true.shape), "E_cm",
           f"has shape {tuple(E_pred.shape)}; predict the energy of every structure.")
    expect(tuple(F_pred.shape) == tuple(F_true.shape), "F_cm",
           f"has shape {tuple(F_pred.shape)}; predict the forces of every structure.")
    seen = set(np.asarray(train_idx).tolist()) | set(np.asarray(val_idx).tolist())
    held_out = torch.as_tensor([i for i in range(len(E_true)) if i not in seen])
    everything = torch.arange(len(E_true))
    for name, got, per_structure in (
            ("mae_energy_cm", mae_energy_cm, (E_pred - E_true).abs()),
            ("mae_force_cm", mae_force_cm, (F_pred[:, 0, 0] - F_true[:, 0, 0]).abs())):
        value = float(to_tensor(name, got).flatten()[0])
        if np.isclose(value, float(per_structure[everything].mean()), rtol=1e-4) and not \
                np.isclose(value, float(per_structure[held_out].mean()), rtol=1e-4):
            raise CheckFailed(name, "includes the structures used for training and "
                              "validation; they flatter the model.",
                              "Average over the held-out structures only.")
        expect_close(name, value, per_structure[held_out].mean(), rtol=1e-3,
                     hint="Mean absolute error over the held-out structures, in eV (energy) "
                          "and eV/Å (x component of the force on atom 0).")
    if strict:
        expect(float(mae_energy_cm) <= 0.01 and float(mae_force_cm) <= 0.15, "model_cm",
               "is not accurate enough yet (the floors are 0.01 eV and 0.15 eV/Å).",
               "Check the training of exercise 2.")
    passed("mae_energy_cm and mae_force_cm", None,
           f"{float(mae_energy_cm):.4f} eV and {float(mae_force_cm):.3f} eV/Å on "
           f"{len(held_out)} held-out structures")


@exercise_check
def far_energy(E_far_cm, model_cm, C_mean, C_scale):
    """Exercise 3: the network's energy for a dimer 12 Å long."""
    import ase

    far = ase.Atoms("H2", positions=[[-6.0, 0, 0], [6.0, 0, 0]])
    descriptor = _coulomb("eigenspectrum").create(far)[None]
    scaled = (descriptor - np.asarray(C_mean)) / np.asarray(C_scale)
    expected, _ = _energy_and_forces(model_cm, scaled, np.zeros((1, 2, 3, scaled.shape[1])))
    unscaled, _ = _energy_and_forces(model_cm, descriptor,
                                     np.zeros((1, 2, 3, scaled.shape[1])))
    value = float(to_tensor("E_far_cm", E_far_cm).flatten()[0])
    if np.isclose(value, float(unscaled[0]), rtol=1e-4) and not np.isclose(
            value, float(expected[0]), rtol=1e-4):
        raise CheckFailed("E_far_cm", "comes from a descriptor that was not standardised.",
                          "Scale the new descriptors with the training mean and standard "
                          "deviation, as in training.")
    expect_close("E_far_cm", value, expected[0], rtol=1e-4, atol=1e-6,
                 hint="Predict with model_cm for the last point of the grid, 12 Å.")
    passed("E_far_cm", value, "the network's energy at 12 Å (eV)")


@exercise_check
def cluster_soap(cluster_soap, soap_and_jacobian, structures):
    """Exercise 4.1: atom-centred SOAP with a given l_max, and its Jacobian."""
    descriptors = {}
    for l_max in (0, 2):
        soap = call("cluster_soap", cluster_soap, l_max)
        expect(hasattr(soap, "derivatives"), f"cluster_soap({l_max})",
               f"returns a {type(soap).__name__}, not a DScribe SOAP object.")
        expect(not soap.periodic, f"cluster_soap({l_max})", "is periodic; a cluster in vacuum "
               "is not, and analytical derivatives need periodic=False.")
        descriptors[l_max] = soap
    n0, n2 = (descriptors[k].get_number_of_features() for k in (0, 2))
    expect(n2 == 3 * n0, "cluster_soap", "does not depend on l_max as it should: with "
           "l_max = 2 a SOAP vector has three times the features of l_max = 0.",
           "Pass l_max on to SOAP(...) instead of a fixed number.")
    soap = descriptors[2]
    atoms = structures[0]
    n_atoms = len(atoms)
    D, dD = call("soap_and_jacobian", soap_and_jacobian, soap, list(structures[:2]))
    D, dD = to_tensor("D", D), to_tensor("dD", dD)
    expect(tuple(D.shape) == (2, n_atoms, n2), "soap_and_jacobian(...)[0]",
           f"has shape {tuple(D.shape)} for two structures; it needs one SOAP vector per "
           "atom and structure.", "Leave centers out: DScribe then puts a centre on every "
           "atom.")
    expect(tuple(dD.shape) == (2, n_atoms, n_atoms, 3, n2), "soap_and_jacobian(...)[1]",
           f"has shape {tuple(dD.shape)} for two structures; it needs (structures, centres, "
           "atoms, 3, features).")
    # central differences with the centres moving with their atoms, done here
    h = 1e-4
    numeric = np.zeros((n_atoms, n_atoms, 3, n2))
    for j in range(n_atoms):
        for axis in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[j, axis] += h
            minus.positions[j, axis] -= h
            numeric[:, j, axis] = (soap.create(plus) - soap.create(minus)) / (2 * h)
    error = float(np.abs(dD[0].numpy() - numeric).max() / np.abs(numeric).max())
    expect(error < 1e-4, "soap_and_jacobian(...)[1]",
           "is not the derivative of the descriptors when the centres move with their atoms "
           "(as the centres are atoms here).", "Ask DScribe for attach=True.")
    passed("cluster_soap and soap_and_jacobian", None,
           f"{n0} and {n2} features for l_max = 0 and 2; Jacobian matches central "
           f"differences to {error:.0e}")


@exercise_check
def lmax_sweep(force_mae_by_lmax, test_forces_by_lmax, test_F, l_max_values, strict=True):
    """Exercise 4.2: held-out force errors of one network per l_max."""
    for name, got in (("force_mae_by_lmax", force_mae_by_lmax),
                      ("test_forces_by_lmax", test_forces_by_lmax)):
        expect(isinstance(got, dict), name, f"is a {type(got).__name__}, not a dict.")
        expect(sorted(got) == sorted(l_max_values), name,
               f"has the keys {sorted(got)}; it needs one entry per value in l_max_values.")
    truth = to_tensor("test_F", test_F)
    maes = {}
    for l_max in l_max_values:
        forces = to_tensor(f"test_forces_by_lmax[{l_max}]", test_forces_by_lmax[l_max])
        expect(tuple(forces.shape) == tuple(truth.shape), f"test_forces_by_lmax[{l_max}]",
               f"holds forces of shape {tuple(forces.shape)}, but the test trajectory has "
               f"{tuple(truth.shape)}.", "Predict the forces of the test structures.")
        value = float(to_tensor(f"force_mae_by_lmax[{l_max}]",
                                force_mae_by_lmax[l_max]).flatten()[0])
        difference = forces - truth
        if np.isclose(value, float(difference.pow(2).mean().sqrt()), rtol=1e-4):
            raise CheckFailed(f"force_mae_by_lmax[{l_max}]", "is a root-mean-square error, "
                              "not a mean absolute error.", "Average the absolute values.")
        expect_close(f"force_mae_by_lmax[{l_max}]", value, difference.abs().mean(), rtol=1e-4,
                     hint="Mean of |predicted - EMT| over all test force components, eV/Å.")
        maes[l_max] = value
    if strict:
        best = min(maes.values())
        expect(best <= 0.06, "force_mae_by_lmax", "has no network with a held-out force "
               "error below 0.06 eV/Å: training went wrong.",
               "Use the given train_potential with the scaled tensors of each l_max.")
        if 0 in maes and max(l_max_values) >= 2:
            expect(maes[0] > 1.3 * min(v for k, v in maes.items() if k > 0),
                   "force_mae_by_lmax", "does not show the difference between the l_max "
                   "values that a correct run shows.",
                   "Make sure each model gets the descriptors, Jacobians and scaling of its "
                   "own l_max.")
    shown = ", ".join(f"l_max={k}: {v:.3f}" for k, v in sorted(maes.items()))
    passed("force_mae_by_lmax", None, f"held-out force MAE (eV/Å) {shown}")


# --- the copper cluster: forces through the SOAP Jacobians -----------------------------------

def _probe_soap():
    """A small atom-centred SOAP for copper (30 features), cheap enough for a check."""
    from dscribe.descriptors import SOAP

    return SOAP(species=["Cu"], r_cut=5.0, n_max=4, l_max=2, sigma=0.5, periodic=False)


class _ProbeNet(torch.nn.Module):
    """A fixed smooth per-atom energy (B, atoms, K) -> (B,), on whatever device and dtype the
    descriptors come in."""

    def __init__(self, n_features: int):
        super().__init__()
        generator = torch.Generator().manual_seed(6)
        self.w1 = torch.nn.Parameter(torch.randn(n_features, 8, generator=generator,
                                                 dtype=torch.float64) / n_features ** 0.5)
        self.w2 = torch.nn.Parameter(torch.randn(8, generator=generator, dtype=torch.float64))

    def forward(self, D):
        hidden = torch.tanh(D @ self.w1.to(D))
        return (hidden @ self.w2.to(D)).sum(dim=-1)


def _chain_rule(model, D, dD, pattern="bijxk,bik->bjx"):
    """Reference forces in float64: minus the gradient contracted with the Jacobian."""
    D = D.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(D).sum(), D)
    return -torch.einsum(pattern, dD, gradient)


@exercise_check
def cluster_forces(standardise, cluster_energy_and_forces, structures):
    """Exercise 4: standardised SOAP inputs and forces by the chain rule, tested against
    central finite differences of the energy and against sum(F) = 0."""
    soap = _probe_soap()
    atoms_list = [atoms.copy() for atoms in structures[:2]]
    jacobian, descriptors = soap.derivatives(atoms_list, method="analytical", attach=True)
    n_features = descriptors.shape[-1]
    mean = descriptors.reshape(-1, n_features).mean(axis=0)
    scale = descriptors.reshape(-1, n_features).std(axis=0)
    D_s, dD_s = call("standardise", standardise, descriptors, jacobian, mean, scale)
    D_got, dD_got = to_tensor("standardise(...)[0]", D_s), to_tensor("standardise(...)[1]",
                                                                       dD_s)
    expect(tuple(dD_got.shape) == jacobian.shape, "standardise(...)[1]",
           f"has shape {tuple(dD_got.shape)}; it must keep the shape of the Jacobian.")
    if torch.allclose(dD_got, torch.as_tensor(jacobian), rtol=1e-4, atol=1e-9):
        raise CheckFailed("standardise", "returns the raw Jacobian: it is missing the factor "
                          "1/s_k (scaling) that the standardised descriptor D/s_k brings into "
                          "every derivative.", "If D is divided by s, so is each dD.")
    expect_close("standardise(...)[0]", D_got, (descriptors - mean) / scale, rtol=1e-4,
                 atol=1e-5, hint="Subtract the mean and divide by the scale, feature by "
                                 "feature.")
    expect_close("standardise(...)[1]", dD_got, jacobian / scale, rtol=1e-4, atol=1e-6,
                 hint="Divide the Jacobian by the scale of its last axis (the features); the "
                      "mean drops out of a derivative.")
    expect(isinstance(D_s, torch.Tensor) and isinstance(dD_s, torch.Tensor), "standardise",
           "must return torch tensors, which the network can take.", "Use to_tensor(...).")

    model = _ProbeNet(n_features)
    result = call("cluster_energy_and_forces", cluster_energy_and_forces, model, D_s, dD_s)
    expect(isinstance(result, tuple) and len(result) == 2, "cluster_energy_and_forces",
           "must return two things: energies and forces.")
    energy, forces = (to_tensor("energies", result[0]), to_tensor("forces", result[1]))
    n_atoms = len(atoms_list[0])
    expect(tuple(energy.shape) == (2,), "energies", f"has shape {tuple(energy.shape)} for a "
           "batch of two structures; one energy per structure.")
    expect(tuple(forces.shape) == (2, n_atoms, 3), "forces",
           f"has shape {tuple(forces.shape)} for two structures of {n_atoms} atoms; it needs "
           "one 3-vector per atom (contract over the centres i and the features k).")
    D64 = torch.as_tensor((descriptors - mean) / scale)
    dD64 = torch.as_tensor(jacobian / scale)
    right = _chain_rule(model, D64, dD64)
    size = float(right.abs().max())
    expect(float(forces.abs().max()) > 1e-6 * size, "forces", "are zero everywhere.",
           "Differentiate the energy with respect to D (D must require gradients) and "
           "contract with the Jacobian.")

    def near(candidate):
        return float((forces - candidate).abs().max()) <= 1e-3 * size

    if near(-right):
        raise CheckFailed("forces", "have the opposite sign: a force is minus the gradient of "
                          "the energy.", "F_j = -sum_i sum_k (de/dD_ik)(dD_ik/dr_j).")
    for pattern in ("bijxk,bjk->bix", "bijxk,bik->bix", "bijxk,bjk->bjx"):
        if near(_chain_rule(model, D64, dD64, pattern)) or near(
                -_chain_rule(model, D64, dD64, pattern)):
            raise CheckFailed("forces", "contract the wrong axis of the Jacobian (centres i "
                              "and atoms j mixed up): the gradient with respect to D_ik must "
                              "meet dD_ik/dr_j, summed over the centres i.",
                              'Label the axes of dD "b i j x k" and of de/dD "b i k".')
    # the visible part of the check: central differences of the energy itself
    h = 1e-4
    numeric = np.zeros((n_atoms, 3))
    for j in range(n_atoms):
        for axis in range(3):
            energies = []
            for sign in (1, -1):
                moved = atoms_list[0].copy()
                moved.positions[j, axis] += sign * h
                D_moved = torch.as_tensor((soap.create(moved) - mean) / scale)[None]
                energies.append(float(model(D_moved)[0]))
            numeric[j, axis] = -(energies[0] - energies[1]) / (2 * h)
    fd_error = float(np.abs(forces[0].numpy() - numeric).max() / np.abs(numeric).max())
    net_force = float(forces.sum(dim=1).abs().max() / size)
    expect(net_force < 1e-4, "forces", "do not sum to zero over the atoms of a structure, "
           "although an isolated cluster feels no net force.",
           "Each force must contain the contributions of all centres i (sum over i).")
    expect(fd_error < 1e-3, "forces", "differ from central finite differences of the energy "
           f"by {fd_error:.0e} of the largest force.",
           "Check the sign, the Jacobian's scaling (1/s_k) and which axis you sum over.")
    # the force term of the loss must reach the weights
    _, forces_graph = call("cluster_energy_and_forces", cluster_energy_and_forces, model,
                           D_s, dD_s, create_graph=True)
    expect(isinstance(forces_graph, torch.Tensor) and forces_graph.requires_grad,
           "cluster_energy_and_forces(..., create_graph=True)",
           "returns forces that are not connected to the weights, so a force loss could not "
           "train them.", "Pass create_graph on to torch.autograd.grad.")
    passed("cluster_energy_and_forces", None,
           f"forces match central differences of the energy to {fd_error:.0e} (relative); "
           f"sum of forces {net_force:.0e} of the largest force")


@exercise_check
def energy_trend(energy_trend, n_atoms):
    """Exercise 5: drift (slope, meV/atom/ps) and fluctuation (RMS about the line, meV/atom)
    of a total energy recorded every dt_fs femtoseconds."""
    dt_fs = 2.0
    time_ps = dt_fs * np.arange(2001) / 1e3
    rng = np.random.default_rng(5)
    slope, amplitude = rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.0)  # meV/atom/ps, meV/atom
    wiggle = amplitude * np.sin(2 * np.pi * time_ps / 0.13) + 0.5 * amplitude * np.sin(
        2 * np.pi * time_ps / 0.31)
    total_eV = 4.0 + n_atoms * 1e-3 * (slope * time_ps + wiggle)
    result = call("energy_trend", energy_trend, total_eV, dt_fs)
    expect(isinstance(result, tuple) and len(result) == 2, "energy_trend",
           "must return two numbers: the slope and the fluctuation.")
    got_slope, got_rms = (float(to_tensor("slope", result[0]).flatten()[0]),
                          float(to_tensor("fluctuation", result[1]).flatten()[0]))
    energy = 1e3 * total_eV / n_atoms
    fit_slope, fit_intercept = np.polyfit(time_ps, energy, 1)
    fit_rms = np.sqrt(np.mean((energy - fit_slope * time_ps - fit_intercept) ** 2))
    end_to_end = (energy[-1] - energy[0]) / time_ps[-1]
    if np.isclose(got_slope, end_to_end, rtol=1e-6) and not np.isclose(got_slope, fit_slope,
                                                                       rtol=1e-3):
        raise CheckFailed("slope", "uses only the first and the last energy; one wiggle at "
                          "either end changes it.", "Fit a straight line through all points "
                          "(np.polyfit with degree 1).")
    for factor, what in ((n_atoms, "per structure, not per atom"),
                         (1 / n_atoms, "divided by the number of atoms twice"),
                         (1e-3, "a thousand times too small (energy in eV, or time in fs?)"),
                         (1e3, "a thousand times too large")):
        if np.isclose(got_slope, fit_slope * factor, rtol=1e-3):
            raise CheckFailed("slope", f"is {what}.", "Convert to meV per atom and time to ps.")
    expect_close("slope", got_slope, fit_slope, rtol=1e-3,
                 hint="Fit energy in meV/atom against time in ps with a line.")
    if np.isclose(got_rms, np.std(energy), rtol=1e-3):
        raise CheckFailed("fluctuation", "is the spread about the mean, which includes the "
                          "trend.", "Take the RMS of the deviations from the fitted line.")
    expect_close("fluctuation", got_rms, fit_rms, rtol=1e-3,
                 hint="Root-mean-square deviation of the energy (meV/atom) from the line.")
    passed("energy_trend", None, "slope and fluctuation of a test signal with a known trend")
