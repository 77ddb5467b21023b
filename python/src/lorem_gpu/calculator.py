"""ASE calculator backed by ``lorem-gpu driver``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator as _ASECalculator
from ase.calculators.calculator import all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from .driver import DriverError, DriverProcess, find_binary

_PRECISIONS = {"f32": "f32", "float32": "f32", "f64": "f64", "float64": "f64"}
_LONG_RANGE = ("auto", "ewald", "pme")


class Calculator(_ASECalculator):
    """LOREM energies, forces and stress from the lorem-gpu engine.

    ``Calculator()`` uses the model built into the lorem-gpu binary;
    ``Calculator.from_checkpoint(folder, ...)`` a lorem-train checkpoint (the
    same call as lorem-jax's ``lorem.calculator.Calculator.from_checkpoint``).

    The calculator runs ``lorem-gpu driver`` as a child process and serves it
    the structures over a private unix socket (the i-PI protocol). The driver
    is found through ``binary=``, ``$LOREM_GPU_BIN`` or PATH. A new driver is
    started when the species, atom count or periodicity change; it is stopped
    by :meth:`close`, on leaving a ``with`` block, when the calculator is
    garbage-collected and at interpreter exit.

    lorem-gpu options:

    device
        ``"opencl"``, ``"opencl:P:D"`` or ``"reference"`` (float64 CPU code);
        ``None`` lets the binary choose (OpenCL when it finds a device).
    precision
        ``"f32"`` (default, like lorem-jax) or ``"f64"``.
    long_range
        ``"auto"`` (exact Ewald below 200 atoms, PME from there), ``"ewald"``
        or ``"pme"``; non-periodic structures always use the direct 1/r sum.
    binary
        Path of the lorem-gpu executable (default: ``$LOREM_GPU_BIN``, then PATH).
    timeout
        Seconds to wait for any one answer of the driver (default 600; ``None``:
        forever). A driver that dies is noticed at once whatever the timeout.
    startup_timeout
        Seconds to wait for a new driver to connect (default 120).
    verbose
        Let the driver write its progress lines to its log (default: ``-q``).

    lorem-jax keyword arguments, accepted so that existing scripts run:

    atoms
        Start the driver for this structure at once (lorem-jax prepares its
        batch); the structure is not attached to the calculator.
    stress
        Whether to offer ``stress``. Default ``True`` here (lorem-jax: ``False``);
        stress is computed for 3D-periodic cells only.
    add_offset
        ``True`` (default): the energy includes the model's elemental baseline
        (as in lorem-jax and ``lorem-gpu predict``). ``False`` subtracts it again
        (read from the checkpoint's ``baseline.yaml``; not available for the
        built-in model).
    double_precision
        ``True`` is ``precision="f64"``.
    skin
        Ignored: the engine rebuilds its neighbour list every step with the
        training-time cutoff (pairs r < cutoff). lorem-jax's calculator lists
        pairs up to cutoff + skin, and those extra pairs enter its Ewald real-space
        sum, which shifts its energies by ~1e-5 relative; lorem-gpu gives the
        numbers the model was trained with (those of ``lorem-gpu predict``).
    properties
        Ignored (lorem-jax uses it only to read model inputs).
    bec
        Offer ``born_effective_charges`` (N×3×3, lorem-jax's layout). Default:
        whether the checkpoint is a LoremBEC model; ``True`` for any other model
        is an error. The charges are present in the results only when the driver
        sends them (i-PI's ``BEC`` extras); otherwise ASE reports the property
        as not present.
    inputs
        Not supported: models with per-structure inputs raise
        ``NotImplementedError``.
    """

    name = "lorem-gpu"
    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(
        self,
        model: Optional[os.PathLike] = None,
        *,
        device: Optional[str] = None,
        precision: Optional[str] = None,
        long_range: str = "auto",
        binary: Optional[str] = None,
        timeout: Optional[float] = 600.0,
        startup_timeout: float = 120.0,
        verbose: bool = False,
        atoms: Optional[Atoms] = None,
        stress: bool = True,
        add_offset: bool = True,
        double_precision: Optional[bool] = None,
        skin: float = 0.25,
        bec: Optional[bool] = None,
        inputs: Sequence[str] = (),
        properties=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                "lorem_gpu.Calculator got unexpected keyword argument(s) "
                + ", ".join(sorted(kwargs))
            )
        if inputs:
            raise NotImplementedError(
                f"inputs={tuple(inputs)!r}: lorem-gpu driver cannot pass per-structure "
                "model inputs"
            )
        if precision is None:
            precision = "f64" if double_precision else "f32"
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be 'f32' or 'f64', not {precision!r}")
        precision = _PRECISIONS[precision]
        if double_precision is not None and (precision == "f64") != bool(double_precision):
            raise ValueError(
                f"double_precision={double_precision!r} contradicts precision={precision!r}"
            )
        if long_range not in _LONG_RANGE:
            raise ValueError(f"long_range must be one of {_LONG_RANGE}, not {long_range!r}")

        if model is not None:
            model = _check_model(model)
        is_bec = model is not None and _is_bec_model(model)
        if bec is None:
            bec = is_bec
        elif bec and not is_bec:
            raise ValueError(
                "bec=True, but the model is not a LoremBEC model: it has no Born effective charges"
            )
        self._baseline = None
        if not add_offset:
            if model is None:
                raise NotImplementedError(
                    "add_offset=False needs a checkpoint's baseline.yaml; the built-in "
                    "model's elemental energies are not readable from Python"
                )
            self._baseline = _read_baseline(model)

        super().__init__()
        self.model = model
        self.device = device
        self.precision = precision
        self.long_range = long_range
        self.binary = find_binary(binary)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.verbose = verbose
        self.skin = skin
        self.add_offset = add_offset
        self.implemented_properties = ["energy", "free_energy", "forces"]
        if stress:
            self.implemented_properties.append("stress")
        self.bec = bool(bec)
        if self.bec:
            self.implemented_properties.append("born_effective_charges")
        self.parameters = {
            "model": None if model is None else str(model),
            "device": device,
            "precision": precision,
            "long_range": long_range,
            "stress": bool(stress),
            "add_offset": bool(add_offset),
            "bec": bool(bec),
        }
        self.extras: dict = {}
        self._driver: Optional[DriverProcess] = None
        if atoms is not None:
            self._driver_for(atoms)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_checkpoint(cls, folder: os.PathLike, **kwargs) -> "Calculator":
        """Calculator for a lorem-train checkpoint folder (containing ``model/``).

        Same call as lorem-jax's ``Calculator.from_checkpoint``; see the class
        docstring for the keyword arguments.
        """
        return cls(model=folder, **kwargs)

    @classmethod
    def from_model(cls, *args, **kwargs):
        raise NotImplementedError(
            "lorem-gpu evaluates checkpoints on disk: save the model with lorem-train "
            "and use Calculator.from_checkpoint(folder)"
        )

    # ------------------------------------------------------------------ driver
    @property
    def driver(self) -> Optional[DriverProcess]:
        """The running driver (``None`` before the first calculation or after ``close``)."""
        return self._driver

    def _driver_for(self, atoms: Atoms) -> DriverProcess:
        if self._driver is not None and self._driver.died():
            # A driver killed or crashed between calls is reported, as one that dies during a
            # call is, whether or not the process has been reaped yet; the next call starts a
            # fresh one. (Restarting silently here depended on how fast the kernel tore the
            # old process down.)
            driver, self._driver = self._driver, None
            raise driver.death_error()
        if self._driver is not None and self._driver.matches(atoms):
            return self._driver
        self.close()
        self._driver = DriverProcess(
            atoms,
            binary=self.binary,
            model=self.model,
            device=self.device,
            precision=self.precision,
            long_range=self.long_range,
            timeout=self.timeout,
            startup_timeout=self.startup_timeout,
            verbose=self.verbose,
        )
        return self._driver

    def close(self) -> None:
        """Stop the driver process and remove its socket and files (idempotent)."""
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ ASE
    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        pbc = np.asarray(atoms.pbc, dtype=bool)
        if pbc.any() and atoms.cell.rank < 3:
            raise ValueError(
                f"periodic structure (pbc={pbc.tolist()}) needs three cell vectors"
            )
        driver = self._driver_for(atoms)
        try:
            energy, forces, virial, extras = driver.compute(atoms.positions, atoms.cell[:])
        except DriverError:
            self._driver = None  # it stopped itself; the next call starts a fresh one
            raise
        if self._baseline is not None:
            energy -= _offset(self._baseline, atoms.numbers)
        self.extras = extras
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": forces,
        }
        if "stress" in self.implemented_properties and pbc.all():
            self.results["stress"] = -full_3x3_to_voigt_6_stress(virial) / atoms.get_volume()
        if self.bec and "BEC" in extras:
            # i-PI's layout (3N, 3): row 3i+α is atom i moved along α, column β the field
            bec = np.asarray(extras["BEC"], dtype=float)
            if bec.size != 9 * len(atoms) or not np.all(np.isfinite(bec)):
                raise DriverError(
                    f"the driver's BEC extras have {bec.size} values (expected "
                    f"{9 * len(atoms)}, all finite)"
                )
            self.results["born_effective_charges"] = bec.reshape(len(atoms), 3, 3)

    def todict(self):
        return dict(self.parameters)


def _check_model(model) -> str:
    path = Path(model).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    if not ((path / "model.yaml").is_file() or (path / "model" / "model.yaml").is_file()):
        raise FileNotFoundError(
            f"{path} is not a lorem-train checkpoint: expected model/model.yaml "
            "(or model.yaml in the folder itself)"
        )
    return str(path.resolve())


def _model_yaml(model: str) -> Path:
    path = Path(model)
    for p in (path / "model" / "model.yaml", path / "model.yaml"):
        if p.is_file():
            return p
    raise FileNotFoundError(f"no model.yaml in {path}")


def _is_bec_model(model: str) -> bool:
    """Whether model.yaml's top-level class is lorem's LoremBEC (Born effective charges)."""
    for line in _model_yaml(model).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            return "BEC" in text.split(":", 1)[0]
    return False


def _read_baseline(model: str) -> dict:
    """The ``elemental`` mapping of a checkpoint's baseline.yaml (Z -> eV)."""
    path = Path(model)
    candidates = [path / "model" / "baseline.yaml", path / "baseline.yaml"]
    for p in candidates:
        if p.is_file():
            break
    else:
        raise FileNotFoundError(f"add_offset=False: no baseline.yaml in {path}")
    table = {}
    inside = False
    for line in p.read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if not line[0].isspace():
            inside = stripped.startswith("elemental:")
            continue
        if inside and ":" in stripped:
            key, value = stripped.split(":", 1)
            table[int(key.strip())] = float(value.strip())
    if not table:
        raise ValueError(f"add_offset=False: no elemental energies in {p}")
    return table


def _offset(table: dict, numbers) -> float:
    missing = sorted({int(z) for z in numbers} - set(table))
    if missing:
        raise ValueError(f"baseline.yaml has no elemental energy for Z={missing}")
    return float(sum(table[int(z)] for z in numbers))
