"""The local AWS endpoint's certificates (ci.localcloud.tls): verified as AWS's are, from a CA the hosts trust
system-wide, which may therefore vouch for loopback and private addresses only."""

from __future__ import annotations

import subprocess

import pytest

from ci.localcloud.tls import issue_endpoint_tls


def _verifies(tls) -> bool:
    """Whether OpenSSL accepts the server certificate against the CA alone (chain and name constraints)."""
    run = subprocess.run(["openssl", "verify", "-CAfile", str(tls.ca_file), str(tls.cert_file)],
                         capture_output=True, text=True, check=False)
    return run.returncode == 0


def test_a_private_address_verifies_and_the_ca_is_kept(tmp_path):
    first = issue_endpoint_tls(tmp_path, "172.30.0.1")
    ca = first.ca_file.read_bytes()
    assert _verifies(first)
    assert oct(first.key_file.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "ca.key").stat().st_mode & 0o777) == "0o600"
    again = issue_endpoint_tls(tmp_path, "127.0.0.1")
    assert again.ca_file.read_bytes() == ca  # the hosts keep trusting it across restarts
    assert _verifies(again)


@pytest.mark.parametrize("name", ["8.8.8.8", "s3.amazonaws.com"])
def test_the_ca_cannot_vouch_for_a_public_name(tmp_path, name):
    assert not _verifies(issue_endpoint_tls(tmp_path, name))
