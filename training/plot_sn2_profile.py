#!/usr/bin/env python3
"""Plots training/sn2_profile.csv (written by sn2_profile.py) to training/sn2_profile.png:
GFN2-xTB vs the default model along the Cl⁻ + CH₃Cl reaction coordinate. Needs matplotlib."""
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

here = Path(__file__).resolve().parent
rows = list(csv.DictReader(open(here / "sn2_profile.csv")))
xi = [float(r["xi_A"]) for r in rows]
fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
ax.plot(xi, [float(r["dE_xtb_eV"]) for r in rows], "o-", label="GFN2-xTB (labels)")
ax.plot(xi, [float(r["dE_model_eV"]) for r in rows], "s--", label="default LOREM model")
ax.set_xlabel("reaction coordinate ξ = d(C–Cl_in) − d(C–Cl_out) (Å)")
ax.set_ylabel("E − E(ξ most negative) (eV)")
ax.set_title("SN2: Cl⁻ + CH₃Cl (examples/sn2_scan.xyz)")
ax.legend()
fig.tight_layout()
fig.savefig(here / "sn2_profile.png")
print("wrote", here / "sn2_profile.png")
