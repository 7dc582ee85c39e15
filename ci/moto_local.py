"""The local AWS endpoint: moto server, plus what AWS reports and moto leaves out.

Run as `python -m ci.moto_local -H HOST -p PORT`. Each fix makes the stand-in answer as AWS does, so the
playbooks stay identical for both; none changes a playbook's behaviour beyond what AWS itself does.
"""

from __future__ import annotations

from moto.rds.models import DBInstance
from moto.server import main

GP3_BASELINE_IOPS = 3000
GP3_BASELINE_THROUGHPUT = 125  # MiB/s: RDS reports these baselines for gp3 volumes under 400 GiB


def _iops(self: DBInstance) -> int | None:
    if self._local_iops is None and self.storage_type == "gp3":
        return GP3_BASELINE_IOPS
    return self._local_iops


def _set_iops(self: DBInstance, value: int | None) -> None:
    self._local_iops = value


_moto_throughput = DBInstance.storage_throughput


def _throughput(self: DBInstance) -> int | None:
    value = _moto_throughput.fget(self)
    return GP3_BASELINE_THROUGHPUT if value is None and self.storage_type == "gp3" else value


# amazon.aws.rds_instance reads Iops and StorageThroughput of every gp3 instance (AWS always sends them).
DBInstance._local_iops = None
DBInstance.iops = property(_iops, _set_iops)
DBInstance.storage_throughput = property(_throughput, _moto_throughput.fset)

if __name__ == "__main__":
    main()
