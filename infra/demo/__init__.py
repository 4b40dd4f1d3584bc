"""The offline demo (``botctl demo``): emulators, every service, and a terminal chat."""

from infra.demo.run import run_demo

__all__ = ["run_demo"]
