"""Run ``lorem-gpu driver`` as a child process and talk to it as an i-PI server.

The driver is an i-PI *client*: it connects to a socket that we listen on. We
use the classic message order (the one ASE's SocketIOCalculator uses):

    STATUS -> NEEDINIT, INIT, STATUS -> READY          (once)
    POSDATA, STATUS -> HAVEDATA, GETFORCE -> FORCEREADY (every evaluation)
    EXIT                                               (at the end)

Everything on the wire is in atomic units (Bohr, Hartree). The cell is sent
row-major with the lattice vectors as columns (the transpose of ASE's cell),
followed by its inverse; the virial comes back in the same layout, so ASE's
convention is its transpose.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import CalculationFailed

HEADER_LEN = 12
# Never believe an extras length larger than this from the wire.
_MAX_EXTRAS = 1 << 30
_STDERR_LINES = 40
_POLL_S = 0.2


class DriverError(CalculationFailed):
    """The lorem-gpu driver failed, died, hung or sent something invalid.

    The message ends with the last lines the driver wrote to stderr.
    """


def find_binary(binary: Optional[str] = None) -> str:
    """Path of the lorem-gpu executable: ``binary``, else ``$LOREM_GPU_BIN``, else PATH."""
    if binary is None:
        binary = os.environ.get("LOREM_GPU_BIN") or None
        source = "LOREM_GPU_BIN"
    else:
        source = "binary="
    if binary is not None:
        path = os.path.expanduser(str(binary))
        if os.path.isdir(path):
            raise FileNotFoundError(
                f"{source} points to a directory, not the lorem-gpu executable: {path}"
            )
        if not os.path.isfile(path):
            found = shutil.which(path)
            if found is None:
                raise FileNotFoundError(f"{source} names no executable file: {path}")
            path = found
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"{source} is not executable: {path}")
        return os.path.abspath(path)
    found = shutil.which("lorem-gpu")
    if found is None:
        raise FileNotFoundError(
            "cannot find the lorem-gpu executable: set LOREM_GPU_BIN to its path "
            "(after `swift build -c release` it is .build/release/lorem-gpu in the "
            "repository) or put it on PATH"
        )
    return found


def _tail(path: Optional[str], lines: int = _STDERR_LINES) -> str:
    if not path:
        return ""
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(deque(f, maxlen=lines)).rstrip()
    except OSError:
        return ""


def _private_dir() -> str:
    """A private temporary directory short enough for a unix socket path (108 bytes)."""
    d = tempfile.mkdtemp(prefix="lorem-gpu-")
    if len(os.path.join(d, "driver.sock")) > 100:
        shutil.rmtree(d, ignore_errors=True)
        d = tempfile.mkdtemp(prefix="lorem-gpu-", dir="/tmp")
    return d


def cell_to_ipi(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ASE cell (vectors as rows, Å) -> i-PI's h (vectors as columns, Bohr) and its inverse."""
    h = np.asarray(cell, dtype=np.float64).T / units.Bohr
    if abs(np.linalg.det(h)) > 1e-12:
        ih = np.linalg.inv(h)
    else:
        # no cell (a molecule) or a degenerate one: the driver ignores it for
        # non-periodic templates and inverts h itself otherwise
        ih = np.zeros((3, 3))
    return h, ih


@dataclass
class _State:
    """Everything that must be released; shared with the finaliser (no reference back)."""

    proc: Optional[subprocess.Popen] = None
    conn: Optional[socket.socket] = None
    server: Optional[socket.socket] = None
    tmpdir: Optional[str] = None
    socket_path: Optional[str] = None
    log_file: Optional[object] = None
    stop_timeout: float = 10.0
    closed: bool = False
    extra: dict = field(default_factory=dict)


def _shutdown(state: _State) -> None:
    """Send EXIT, wait for the driver, kill it after a timeout, remove every file."""
    if state.closed:
        return
    state.closed = True
    told_to_exit = False
    if state.conn is not None:
        try:
            state.conn.settimeout(2.0)
            state.conn.sendall(b"EXIT".ljust(HEADER_LEN))
            told_to_exit = True
        except OSError:
            pass
        try:
            state.conn.close()
        except OSError:
            pass
        state.conn = None
    if state.server is not None:
        try:
            state.server.close()
        except OSError:
            pass
        state.server = None
    proc = state.proc
    if proc is not None:
        try:
            if not told_to_exit and proc.poll() is None:
                # never connected, or the connection broke: nobody can send it EXIT
                proc.terminate()
            proc.wait(timeout=state.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
                pass
        except Exception:  # pragma: no cover - e.g. interpreter shutting down
            try:
                proc.kill()
            except OSError:
                pass
    if state.log_file is not None:
        try:
            state.log_file.close()
        except OSError:
            pass
        state.log_file = None
    if state.socket_path is not None:
        try:
            os.unlink(state.socket_path)
        except OSError:
            pass
    if state.tmpdir is not None:
        shutil.rmtree(state.tmpdir, ignore_errors=True)
        state.tmpdir = None


class DriverProcess:
    """One ``lorem-gpu driver`` child serving one kind of structure.

    Species, atom count and periodicity are fixed by the template written at
    start-up; positions and cell change with every :meth:`compute`.
    """

    def __init__(
        self,
        template: Atoms,
        *,
        binary: Optional[str] = None,
        model: Optional[str] = None,
        device: Optional[str] = None,
        precision: Optional[str] = None,
        long_range: Optional[str] = None,
        timeout: Optional[float] = 600.0,
        startup_timeout: float = 120.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
        extra_args: Sequence[str] = (),
    ):
        self.binary = find_binary(binary)
        self.numbers = np.array(template.numbers, dtype=int)
        self.pbc = np.array(template.pbc, dtype=bool)
        self.natoms = len(template)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._state = _State(stop_timeout=stop_timeout)
        self._finalizer = weakref.finalize(self, _shutdown, self._state)
        try:
            self._start(template, model, device, precision, long_range, verbose, extra_args)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ life cycle
    @property
    def pid(self) -> Optional[int]:
        return None if self._state.proc is None else self._state.proc.pid

    @property
    def process(self) -> Optional[subprocess.Popen]:
        return self._state.proc

    @property
    def alive(self) -> bool:
        st = self._state
        return not st.closed and st.proc is not None and st.proc.poll() is None

    def died(self) -> bool:
        """The process ended without being told to (killed, crashed) since the last call."""
        st = self._state
        return not st.closed and st.proc is not None and st.proc.poll() is not None

    def death_error(self) -> DriverError:
        """The error for a driver that ``died()``: its exit status and stderr tail."""
        return self._error(
            f"lorem-gpu driver exited with status {self._state.proc.returncode} between calculations"
        )

    def matches(self, atoms: Atoms) -> bool:
        return (
            self.alive
            and len(atoms) == self.natoms
            and np.array_equal(atoms.numbers, self.numbers)
            and np.array_equal(np.asarray(atoms.pbc, dtype=bool), self.pbc)
        )

    def close(self) -> None:
        """Stop the driver (EXIT, wait, kill after ``stop_timeout``) and remove its files."""
        self._finalizer()

    def stderr_tail(self) -> str:
        return _tail(self._state.extra.get("log_path"))

    def _start(self, template, model, device, precision, long_range, verbose, extra_args):
        st = self._state
        st.tmpdir = _private_dir()
        tpl_path = os.path.join(st.tmpdir, "template.xyz")
        log_path = os.path.join(st.tmpdir, "driver.log")
        st.extra["log_path"] = log_path
        sock_name = "driver.sock"
        st.socket_path = os.path.join(st.tmpdir, sock_name)

        clean = Atoms(
            numbers=template.numbers,
            positions=template.positions,
            cell=template.cell,
            pbc=template.pbc,
        )
        clean.write(tpl_path, format="extxyz")

        st.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        st.server.bind(st.socket_path)
        st.server.listen(1)
        st.server.settimeout(_POLL_S)

        argv = [self.binary, "driver"]
        if model is not None:
            argv += ["--model", str(model)]
        argv += [
            "--template", tpl_path,
            "--unix", sock_name,
            "--socket-prefix", st.tmpdir + os.sep,
            "--connect-timeout", str(max(1, int(round(self.startup_timeout)))),
        ]
        if device is not None:
            argv += ["--device", str(device)]
        if precision is not None:
            argv += ["--precision", str(precision)]
        if long_range is not None:
            argv += ["--long-range", str(long_range)]
        if not verbose:
            argv.append("-q")
        argv += [str(a) for a in extra_args]
        self.argv = argv

        st.log_file = open(log_path, "wb")
        st.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=st.log_file,
            stderr=st.log_file,
            close_fds=True,
        )

        # accept, but keep an eye on the child: a driver that dies at start-up
        # must give an error, not a hang
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                conn, _ = st.server.accept()
                break
            except socket.timeout:
                pass
            code = st.proc.poll()
            if code is not None:
                raise self._error(f"lorem-gpu driver exited with status {code} before connecting")
            if time.monotonic() > deadline:
                raise self._error(
                    f"lorem-gpu driver did not connect within {self.startup_timeout:g} s",
                    hung=True,
                )
        st.conn = conn
        # one client only: the listening socket and its file can go now
        st.server.close()
        st.server = None
        try:
            os.unlink(st.socket_path)
        except OSError:
            pass
        st.socket_path = None

        status = self._status()
        if status == "NEEDINIT":
            self._send(b"INIT".ljust(HEADER_LEN) + np.int32(0).tobytes()
                       + np.int32(1).tobytes() + b" ")
            status = self._status()
        if status != "READY":
            raise self._error(f"driver answered STATUS with {status!r} after INIT, expected 'READY'")

    # ------------------------------------------------------------------ wire
    def _error(self, message: str, hung: bool = False) -> DriverError:
        """A DriverError with the driver's exit status and stderr tail; stops the driver.

        ``hung``: the driver stopped answering; terminate it rather than wait for EXIT.
        """
        st = self._state
        proc = st.proc
        code = None
        if hung and proc is not None and proc.poll() is None:
            proc.terminate()
        if proc is not None:
            try:
                code = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                code = None
        if st.log_file is not None:
            try:
                st.log_file.flush()
            except (OSError, ValueError):
                pass
        tail = self.stderr_tail()
        argv = " ".join(getattr(self, "argv", []) or [])
        text = message
        if code is not None and "status" not in message:
            text += f" (driver exit status {code})"
        if argv:
            text += f"\ncommand: {argv}"
        text += "\n--- lorem-gpu driver stderr (last lines) ---\n" + (tail or "(empty)")
        self.close()
        return DriverError(text)

    def _send(self, data: bytes) -> None:
        conn = self._state.conn
        if conn is None:
            raise DriverError("the lorem-gpu driver is closed")
        try:
            conn.settimeout(self.timeout)
            conn.sendall(data)
        except socket.timeout:
            raise self._error("timed out sending to the lorem-gpu driver", hung=True) from None
        except OSError as e:
            raise self._error(f"lost the connection to the lorem-gpu driver ({e})") from None

    def _recv(self, nbytes: int) -> bytes:
        """Exactly ``nbytes``, polling the child; a timeout bounds every read."""
        conn = self._state.conn
        if conn is None:
            raise DriverError("the lorem-gpu driver is closed")
        buf = bytearray()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        conn.settimeout(_POLL_S)
        while len(buf) < nbytes:
            try:
                chunk = conn.recv(min(nbytes - len(buf), 1 << 20))
            except socket.timeout:
                proc = self._state.proc
                if proc is not None and proc.poll() is not None:
                    raise self._error(
                        f"lorem-gpu driver exited with status {proc.returncode} during a calculation"
                    ) from None
                if deadline is not None and time.monotonic() > deadline:
                    raise self._error(
                        f"no answer from the lorem-gpu driver within {self.timeout:g} s", hung=True
                    ) from None
                continue
            except OSError as e:
                raise self._error(f"lost the connection to the lorem-gpu driver ({e})") from None
            if not chunk:
                raise self._error("the lorem-gpu driver closed the connection")
            buf += chunk
        return bytes(buf)

    def _header(self) -> str:
        raw = self._recv(HEADER_LEN)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise self._error(f"malformed message header from the driver: {raw!r}") from None
        return text.strip()

    def _status(self) -> str:
        self._send(b"STATUS".ljust(HEADER_LEN))
        return self._header()

    def _floats(self, count: int) -> np.ndarray:
        a = np.frombuffer(self._recv(8 * count), dtype="<f8").astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise self._error("the lorem-gpu driver returned a non-finite number")
        return a

    def _int(self) -> int:
        return int(np.frombuffer(self._recv(4), dtype="<i4")[0])

    # ------------------------------------------------------------------ evaluation
    def compute(self, positions: np.ndarray, cell: np.ndarray):
        """Energy (eV), forces (eV/Å, N×3), virial (eV, ASE layout: −∂E/∂ε), extras (dict)."""
        if self._state.closed:
            raise DriverError("the lorem-gpu driver is closed")
        positions = np.asarray(positions, dtype=np.float64)
        if positions.shape != (self.natoms, 3):
            raise ValueError(f"expected {self.natoms}×3 positions, got {positions.shape}")
        if not np.all(np.isfinite(positions)) or not np.all(np.isfinite(cell)):
            raise ValueError("positions and cell must be finite")
        h, ih = cell_to_ipi(cell)

        status = self._status()
        if status != "READY":
            raise self._error(f"driver answered STATUS with {status!r}, expected 'READY'")
        msg = (
            b"POSDATA".ljust(HEADER_LEN)
            + h.astype("<f8").tobytes()  # row-major h: lattice vectors are its columns
            + ih.astype("<f8").tobytes()
            + np.int32(self.natoms).tobytes()
            + (positions / units.Bohr).astype("<f8").tobytes()
        )
        self._send(msg)
        status = self._status()
        if status != "HAVEDATA":
            raise self._error(f"driver answered STATUS with {status!r} after POSDATA, expected 'HAVEDATA'")
        self._send(b"GETFORCE".ljust(HEADER_LEN))
        header = self._header()
        if header != "FORCEREADY":
            raise self._error(f"driver answered GETFORCE with {header!r}, expected 'FORCEREADY'")
        energy = float(self._floats(1)[0])
        n = self._int()
        if n != self.natoms:
            raise self._error(f"driver returned forces for {n} atoms, expected {self.natoms}")
        forces = self._floats(3 * n).reshape(n, 3)
        virial_ipi = self._floats(9).reshape(3, 3)
        nextra = self._int()
        if nextra < 0 or nextra > _MAX_EXTRAS:
            raise self._error(f"driver announced an impossible extras length {nextra}")
        raw = self._recv(nextra) if nextra else b""
        extras = _parse_extras(raw)
        return (
            energy * units.Hartree,
            forces * (units.Hartree / units.Bohr),
            virial_ipi.T * units.Hartree,
            extras,
        )


def _parse_extras(raw: bytes) -> dict:
    text = raw.rstrip(b"\x00").decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"raw": value}
