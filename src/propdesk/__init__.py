"""propdesk: a self-hosted paper-trading and prop-firm account engine.

Importing the package creates nothing: settings, engines and apps are built by factories in
:mod:`propdesk.bootstrap`.
"""

__version__ = "0.1.0"
