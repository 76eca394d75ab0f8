"""What every benchmark shares: a free loopback port, and the machine a result was measured on (in words for a
report, as a record for JSON)."""

from __future__ import annotations

import os
import platform
import socket
import sys
from importlib.metadata import version
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """The machine and its load now, in words: cores, RAM, load average (1/5/15 min), Python."""
    import psutil

    memory = psutil.virtual_memory()
    one, five, fifteen = os.getloadavg()
    return (f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"{memory.total / 2**30:.0f} GiB RAM, load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min), "
            f"Python {platform.python_version()}")


def machine_record(libraries: tuple[str, ...] = ()) -> dict:
    """The machine as a JSON record: CPU, cores, RAM, Python and the versions of `libraries`."""
    import psutil

    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "libraries": {name: version(name) for name in libraries},
    }
