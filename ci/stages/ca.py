"""`python -m ci ca --env ENV`: the platform CA's certificate as a file, for your browser and HTTP clients.

The UI and API are served over HTTPS with a certificate the platform CA issued (unless the inventory gives
your own). Import the file printed here into your browser's trusted authorities, or pass it to a client
(`curl --cacert FILE`, requests' `verify=FILE`). The certificate is public; its key never leaves SSM.
"""

from __future__ import annotations

import argparse

from ci.platform import Platform, PlatformError


def run(args: argparse.Namespace) -> int:
    """Write the certificate to .work/<env>/platform-ca.pem and print its path, or why it cannot."""
    try:
        print(Platform.load(args.env).ca_file())
    except PlatformError as exc:
        print(f"ca failed: {exc}")
        return 1
    return 0
