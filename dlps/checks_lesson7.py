"""Checks for the exercises of Lesson 7 (exercises/07_ising_phases).

Each function is called by the check cell after one gap and works out the right answer itself
(from the learner's inputs and the reference code in ``dlps.ising``), never from a stored
number; see ``dlps.checks`` for the conventions.
"""

from __future__ import annotations

import numpy as np
import torch

from . import ising
from .checks import CheckFailed, call, exercise_check, expect, expect_close, passed, to_tensor


def _reference_sweep(spins, table, masks, uniforms, *, together=False, reverse=False):
    """Checkerboard Metropolis with given uniform numbers (2, *spins.shape); the variants
    ``together`` (all sites at once) and ``reverse`` (accept when u > p) are typical mistakes."""
    row = torch.arange(spins.shape[0]).view(-1, 1, 1, 1) * 5
    flat = table.flatten()
    steps = [(masks[0] | masks[1], uniforms[0])] if together else zip(masks, uniforms)
    for mask, uniform in steps:
        column = ((spins * ising.neighbour_sum(spins) + 4) / 2).long()
        accept = flat[row + column]
        chosen = (uniform > accept) if reverse else (uniform < accept)
        spins = torch.where(chosen & mask, -spins, spins)
    return spins


def _probe_spins(shape=(3, 4, 8, 8), seed=7):
    generator = torch.Generator().manual_seed(seed)
    spins = torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0)
    uniforms = torch.rand((2, *shape), generator=generator)
    return spins, uniforms


@exercise_check
def metropolis_sweep(metropolis_sweep, acceptance_table, checkerboard_masks):
    """Exercise 1: one checkerboard sweep with given random numbers."""
    spins, uniforms = _probe_spins()
    table = ising.acceptance_table([1.5, 2.27, 3.5])
    masks = ising.checkerboard_masks(spins.shape[-1])
    before = spins.clone()
    got = call("metropolis_sweep", metropolis_sweep, spins, table, masks, uniforms)
    expect(torch.equal(spins, before), "metropolis_sweep",
           "changed its input tensor in place; return a new tensor instead.",
           "Use torch.where(flip, -spins, spins).")
    got = to_tensor("metropolis_sweep(...)", got, dtype=torch.float32)
    expect(tuple(got.shape) == tuple(spins.shape), "metropolis_sweep(...)",
           f"has shape {tuple(got.shape)}; it must return spins of the input's shape.")
    expect(bool(((got == 1) | (got == -1)).all()), "metropolis_sweep(...)",
           "holds values other than +1 and -1.", "Flip spins by changing their sign.")
    right = _reference_sweep(spins, table, masks, uniforms)
    if torch.equal(got, right):
        passed("metropolis_sweep", None, "exact agreement with a reference sweep on 12 "
               "chains at 3 temperatures")
        return
    if torch.equal(got, _reference_sweep(spins, table, masks, uniforms, together=True)):
        raise CheckFailed("metropolis_sweep", "updates every site at once: neighbours then "
                          "flip together and see each other's old values.",
                          "Loop over the two masks and recompute the neighbour sum before "
                          "each half-sweep.")
    if torch.equal(got, _reference_sweep(spins, table, masks, uniforms, reverse=True)):
        raise CheckFailed("metropolis_sweep", "accepts a flip with the wrong probability: "
                          "a flip must be accepted when the uniform number is below the "
                          "acceptance probability.")
    changed = got != spins
    outside = changed & ~(masks[0] | masks[1])
    expect(not bool(outside.any()), "metropolis_sweep", "flips sites outside the masks.")
    raise CheckFailed("metropolis_sweep", "does not agree with a Metropolis sweep using the "
                      "given random numbers.",
                      "Use uniforms[0] for the first mask and uniforms[1] for the second, "
                      "look up the acceptance in row t, column (s*h + 4)/2 of the table.")


@exercise_check
def energy_per_spin(energy_per_spin):
    """Exercise 2: energy per spin of configurations (..., L, L)."""
    spins, _ = _probe_spins(shape=(5, 6, 6))
    spins[0] = 1.0                       # all up: u = -2
    spins[1] = ising.checkerboard_masks(6)[0].float() * 2 - 1   # antiferromagnet: u = +2
    got = to_tensor("energy_per_spin(...)",
                    call("energy_per_spin", energy_per_spin, spins.clone()))
    expected = ising.energy_per_spin(spins).double()
    if tuple(got.shape) == tuple(expected.shape):
        if torch.allclose(got, 2 * expected):
            raise CheckFailed("energy_per_spin", "counts every bond twice.",
                              "Sum over the right and the lower neighbour only (or divide "
                              "the sum over all four by two).")
        if torch.allclose(got, expected * 36):
            raise CheckFailed("energy_per_spin", "is the total energy, not the energy per "
                              "spin.", "Divide by the number of spins, L * L.")
    expect_close("energy_per_spin(...)", got, expected, rtol=1e-5, atol=1e-6,
                 hint="u = -(1/L^2) sum over bonds of s_i s_j; all spins up gives -2.")
    passed("energy_per_spin", None, "5 configurations, including all up (-2) and the "
           "checkerboard (+2)")


@exercise_check
def simulation_vs_exact(u_simulated, u_exact, temperatures_ex, frames):
    """Exercise 2b: simulated energies and Onsager's values, one per temperature.

    ``frames`` is (temperatures, chains, frames, L, L); the tolerance is four standard errors
    of the chain means plus 0.01 for finite size, far from T_c."""
    sim = to_tensor("u_simulated", u_simulated).flatten()
    exact = to_tensor("u_exact", u_exact).flatten()
    n = len(np.asarray(temperatures_ex))
    expect(len(sim) == n and len(exact) == n, "u_simulated and u_exact",
           f"have {len(sim)} and {len(exact)} entries; they need one per temperature ({n}).",
           "Average over chains and frames, not over temperatures.")
    expect_close("u_exact", exact, ising.exact_energy_per_spin(np.asarray(temperatures_ex)),
                 rtol=1e-6, hint="Use exact_energy_per_spin(temperatures_ex).")
    per_chain = ising.energy_per_spin(torch.as_tensor(frames).double()).mean(dim=2)
    expect_close("u_simulated", sim, per_chain.mean(dim=1), rtol=1e-4, atol=1e-6,
                 hint="Average energy_per_spin(frames) over chains and frames "
                      "(dimensions 1 and 2).")
    error = per_chain.std(dim=1) / per_chain.shape[1] ** 0.5
    deviation = (sim - exact).abs()
    tolerance = 4 * error + 0.01
    expect(bool((deviation < tolerance).all()), "u_simulated",
           "differs from Onsager's energy by more than four standard errors + 0.01.",
           "Check your sweep (Exercise 1) and that frames are kept after equilibration.")
    passed("u_simulated", None, f"within {float(deviation.max()):.4f} of Onsager's energy "
           "at every temperature")


@exercise_check
def chain_split(train_idx, test_idx, chain_of_frame, temperature_of_frame):
    """Exercise 3: a split that keeps every chain on one side."""
    chain = np.asarray(chain_of_frame)
    temp = np.asarray(temperature_of_frame)
    train = np.asarray(train_idx).astype(int).ravel()
    test = np.asarray(test_idx).astype(int).ravel()
    expect(len(np.intersect1d(train, test)) == 0, "train_idx and test_idx",
           "share frames.", "Each frame goes to exactly one side.")
    expect(len(train) + len(test) == len(chain)
           and len(np.union1d(train, test)) == len(chain), "train_idx and test_idx",
           "do not cover every frame exactly once.")
    shared = np.intersect1d(chain[train], chain[test])
    expect(len(shared) == 0, "train_idx and test_idx",
           f"split {len(shared)} chain(s) between training and test: a frame-level split "
           "leaks near-twins.", "Choose whole chains for the test set, then take all their "
           "frames.")
    missing = np.setdiff1d(np.unique(temp), np.unique(temp[test]))
    expect(len(missing) == 0, "test_idx", f"has no chain at {len(missing)} temperature(s).",
           "Pick test chains at every temperature.")
    fraction = len(test) / len(chain)
    expect(0.15 <= fraction <= 0.35, "test_idx",
           f"holds {100 * fraction:.0f} % of the frames; the exercise asks for a quarter "
           "of the chains.")
    passed("train_idx and test_idx", None, f"{len(np.unique(chain[test]))} test chains, "
           f"{100 * fraction:.0f} % of the frames, no chain on both sides")


@exercise_check
def symmetry_augment(symmetry_augment):
    """Exercise 4: a random transformation that keeps the Ising energy of every frame."""
    spins, _ = _probe_spins(shape=(64, 1, 8, 8), seed=3)
    spins[:, :, :4] = 1.0                      # half-ordered: rotations are visible
    before = spins.clone()
    outputs = [to_tensor("symmetry_augment(...)",
                         call("symmetry_augment", symmetry_augment, spins.clone()),
                         dtype=torch.float32) for _ in range(4)]
    expect(torch.equal(spins, before), "symmetry_augment", "changed its input in place.")
    for out in outputs:
        expect(tuple(out.shape) == tuple(spins.shape), "symmetry_augment(...)",
               f"has shape {tuple(out.shape)}; it must keep the shape of the batch.")
        expect(bool(((out == 1) | (out == -1)).all()), "symmetry_augment(...)",
               "holds values other than +1 and -1.")
        same_energy = torch.isclose(ising.energy_per_spin(out), ising.energy_per_spin(spins))
        expect(bool(same_energy.all()), "symmetry_augment(...)",
               "changes the energy of some configurations: that is not a symmetry of the "
               "Ising model, and the label may change with it.",
               "Use only a global spin flip, rotations by 90 degrees, reflections and "
               "periodic shifts (roll).")
    m_in = spins.mean(dim=(-3, -2, -1))
    signs = torch.cat([torch.sign(out.mean(dim=(-3, -2, -1))) * torch.sign(m_in)
                       for out in outputs])
    expect(bool((signs < 0).any()), "symmetry_augment", "never flips the spins, so an "
           "ordered phase with m < 0 is never shown if the data have only m > 0.",
           "Multiply each configuration by -1 with probability 1/2.")
    expect(bool((signs > 0).any()), "symmetry_augment", "always flips the spins; then "
           "every batch shows only the flipped copy.", "Flip with probability 1/2.")
    def unmoved(out):
        same = (out == spins).flatten(1).all(1) | (out == -spins).flatten(1).all(1)
        return bool(same.all())

    expect(not all(unmoved(out) for out in outputs), "symmetry_augment",
           "never moves the lattice: add rotations, reflections or periodic shifts.")
    passed("symmetry_augment", None, "energy kept for every frame, spins flipped and the "
           "lattice moved at random")
