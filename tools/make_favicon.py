"""Draw the book's favicon (fig/favicon.png): a sigmoid curve on a dark tile.

    python tools/make_favicon.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TARGET = Path(__file__).resolve().parent.parent / "fig" / "favicon.png"

fig = plt.figure(figsize=(1, 1), dpi=64)
ax = fig.add_axes([0, 0, 1, 1])
ax.set_facecolor("#1f3b57")
z = np.linspace(-6, 6, 200)
ax.plot(z, 1 / (1 + np.exp(-z)), color="#f5b041", linewidth=6)
ax.set_xlim(-6.5, 6.5)
ax.set_ylim(-0.15, 1.15)
ax.set_axis_off()
fig.patch.set_facecolor("#1f3b57")
fig.savefig(TARGET, facecolor=fig.get_facecolor())
print(f"wrote {TARGET}")
