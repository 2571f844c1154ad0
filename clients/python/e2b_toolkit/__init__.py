"""Python client for the e2b-toolkit API, with the E2B Toolkit reference's API.

    from e2b_toolkit import SandboxManager, E2BToolkit

    manager = SandboxManager(api_key="...", default_timeout=360)   # + base_url=..., env E2B_TOOLKIT_URL
    toolkit = E2BToolkit(manager, auto_create_default=True)
    toolkit.run_python_code("print('hello')")
"""

from .connection import DEFAULT_URL, Connection
from .errors import ToolkitError
from .manager import SandboxManager, SandboxSlot
from .toolkit import E2BToolkit

__all__ = ["SandboxManager", "SandboxSlot", "E2BToolkit", "ToolkitError", "Connection", "DEFAULT_URL"]
__version__ = "0.1.0"
