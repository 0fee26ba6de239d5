"""The 2D Ising model on a periodic lattice: Monte Carlo, exact results, crossings.

Every function here is written out in Lesson 7 first; its docstring names the section.  The
lesson's exercise page and its checks import them from here, so that a learner who read the
lesson can read this file.  Spins are float32 tensors of +1 and -1 with the lattice in the last
two dimensions, e.g. ``(temperatures, chains, L, L)``; temperatures are in units of J/k_B.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["CRITICAL_TEMPERATURE", "acceptance_table", "checkerboard_masks",
           "crossing_temperature", "energy_per_spin", "exact_energy_per_spin",
           "exact_magnetisation", "integrated_autocorrelation_time", "metropolis_sweep",
           "neighbour_sum"]

#: Onsager's critical temperature 2 / ln(1 + sqrt(2)) of the square lattice, in J/k_B.
CRITICAL_TEMPERATURE = 2.0 / math.log(1.0 + math.sqrt(2.0))


def neighbour_sum(spins: torch.Tensor) -> torch.Tensor:
    """Sum of the four nearest neighbours of every site, with periodic boundaries.

    Taught in Lesson 7, section "Metropolis on a checkerboard".
    """
    return (spins.roll(1, dims=-1) + spins.roll(-1, dims=-1)
            + spins.roll(1, dims=-2) + spins.roll(-1, dims=-2))


def checkerboard_masks(size: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The 'black' and 'white' sites of an L x L lattice (L even), as two boolean masks.

    Taught in Lesson 7, section "Metropolis on a checkerboard".
    """
    index = torch.arange(size, device=device)
    black = (index[:, None] + index[None, :]) % 2 == 0
    return black, ~black


def acceptance_table(temperatures) -> torch.Tensor:
    """Metropolis acceptance min(1, exp(-dE/T)) for the five values of s_i * h_i.

    Row t holds temperature t; column k holds s_i h_i = 2k - 4 (h_i: neighbour sum), for which
    flipping s_i costs dE = 2 s_i h_i.  Computed in float64, returned as float32.
    Taught in Lesson 7, section "Metropolis on a checkerboard".
    """
    temperatures = torch.as_tensor(temperatures, dtype=torch.float64).cpu()
    s_times_h = torch.arange(-4, 5, 2, dtype=torch.float64)
    delta_e = 2.0 * s_times_h
    table = torch.exp(-delta_e[None, :] / temperatures[:, None]).clamp(max=1.0)
    return table.float()


def metropolis_sweep(spins: torch.Tensor, table: torch.Tensor, masks, generator=None
                     ) -> torch.Tensor:
    """One Metropolis sweep of spins (temperatures, chains, L, L): black sites, then white.

    ``table`` is ``acceptance_table(temperatures)`` on the spins' device.  Sites of one colour
    have no neighbours of that colour, so all of them can be updated at once.
    Taught in Lesson 7, section "Metropolis on a checkerboard".
    """
    n_temperatures = spins.shape[0]
    row = torch.arange(n_temperatures, device=spins.device).view(-1, 1, 1, 1) * 5
    flat_table = table.flatten()
    for mask in masks:
        s_times_h = spins * neighbour_sum(spins)             # -4, -2, 0, 2 or 4
        column = ((s_times_h + 4) * 0.5).long()              # 0 ... 4
        accept = flat_table[row + column]                    # exact, from the table
        uniform = torch.rand(spins.shape, device=spins.device, generator=generator)
        flip = (uniform < accept) & mask
        spins = torch.where(flip, -spins, spins)
    return spins


def energy_per_spin(spins: torch.Tensor) -> torch.Tensor:
    """Energy per spin -J/N sum over bonds s_i s_j (each bond once), with J = 1.

    Taught in Lesson 7, section "Metropolis on a checkerboard".
    """
    bonds = spins * (spins.roll(1, dims=-1) + spins.roll(1, dims=-2))
    return -bonds.mean(dim=(-2, -1))


def exact_magnetisation(temperatures) -> np.ndarray:
    """Spontaneous magnetisation of the infinite lattice (Onsager, Yang): zero above T_c.

    m = (1 - sinh(2/T)^-4)^(1/8) below T_c.
    Taught in Lesson 7, section "Checking the simulator against exact results".
    """
    t = np.asarray(temperatures, dtype=np.float64)
    inner = 1.0 - np.sinh(2.0 / t) ** -4.0
    return np.where(t < CRITICAL_TEMPERATURE, np.clip(inner, 0.0, None) ** 0.125, 0.0)


def exact_energy_per_spin(temperatures) -> np.ndarray:
    """Onsager's energy per spin of the infinite lattice, with J = 1.

    u = -coth(2b) [1 + (2/pi)(2 tanh(2b)^2 - 1) K(k^2)], b = 1/T, k = 2 sinh(2b)/cosh(2b)^2,
    K the complete elliptic integral of the first kind (scipy's ellipk takes k^2).
    Taught in Lesson 7, section "Checking the simulator against exact results".
    """
    from scipy.special import ellipk

    b = 1.0 / np.asarray(temperatures, dtype=np.float64)
    k = 2.0 * np.sinh(2 * b) / np.cosh(2 * b) ** 2
    bracket = 1.0 + 2.0 / np.pi * (2.0 * np.tanh(2 * b) ** 2 - 1.0) * ellipk(k**2)
    return -bracket / np.tanh(2 * b)


def integrated_autocorrelation_time(series, window_factor: float = 5.0) -> np.ndarray:
    """Integrated autocorrelation time of series (..., chains, steps), in steps.

    tau = 1/2 + sum_{t=1..W} rho(t), with rho averaged over the chains and the window W the
    smallest with W >= window_factor * tau (Sokal's automatic window).
    Taught in Lesson 7, section "How long to wait: autocorrelation".
    """
    x = torch.as_tensor(series, dtype=torch.float64).cpu()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    steps = x.shape[-1]
    spectrum = torch.fft.rfft(x, n=2 * steps)
    acf = torch.fft.irfft(spectrum * spectrum.conj(), n=2 * steps)[..., :steps].mean(-2)
    rho = (acf / acf[..., :1].clamp_min(1e-300)).reshape(-1, steps).numpy()
    taus = []
    for row in rho:
        running = 0.5 + np.cumsum(row[1:])
        windows = np.arange(1, steps)
        stop = np.nonzero(windows >= window_factor * running)[0]
        taus.append(running[stop[0]] if len(stop) else running[-1])
    return np.array(taus).reshape(acf.shape[:-1])


def crossing_temperature(temperatures, outputs, level: float = 0.5) -> float:
    """Temperature where a decreasing curve ``outputs`` first falls below ``level``.

    Linear interpolation between the two temperatures that bracket the crossing.
    Taught in Lesson 7, section "Reading off the critical temperature".
    """
    t = np.asarray(temperatures, dtype=np.float64)
    y = np.asarray(outputs, dtype=np.float64)
    below = np.nonzero(y < level)[0]
    if len(below) == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    return float(t[i - 1] + (y[i - 1] - level) * (t[i] - t[i - 1]) / (y[i - 1] - y[i]))
