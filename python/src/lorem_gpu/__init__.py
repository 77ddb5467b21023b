"""lorem-gpu from Python: an ASE calculator that runs ``lorem-gpu driver`` over the i-PI protocol."""

from .calculator import Calculator
from .driver import DriverError, DriverProcess, find_binary

__version__ = "0.1.0"

__all__ = ["Calculator", "DriverError", "DriverProcess", "find_binary", "__version__"]
