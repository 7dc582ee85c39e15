"""The local AWS endpoint: moto server, plus what AWS reports and moto leaves out.

Run as `python -m ci.localcloud.moto_server -H HOST -p PORT`. Each fix makes the stand-in answer as AWS does, so the
playbooks stay identical for both; none changes a playbook's behaviour beyond what AWS itself does.
"""

from __future__ import annotations

import threading

from moto.core.responses import ActionResult
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses.instances import InstanceResponse
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

# CreateDBInstance, EngineVersion: "If you specify only a major version, Amazon RDS updates the DB instance to
# the default minor version" (RDS API reference); DescribeDBInstances then reports e.g. 16.8, never "16".
# moto echoes the major version back, which hid a ModifyDBInstance on every re-provision.
DEFAULT_MINOR_VERSIONS = {("postgres", "17"): "17.5", ("postgres", "16"): "16.9", ("postgres", "15"): "15.13"}
_moto_engine_version = DBInstance.engine_version


def _set_engine_version(self: DBInstance, value: str) -> None:
    minor = DEFAULT_MINOR_VERSIONS.get((getattr(self, "engine", None), value))
    _moto_engine_version.fset(self, minor or value)


DBInstance.engine_version = property(_moto_engine_version.fget, _set_engine_version)

# Regions have Local Zones (zone type local-zone) once an account opts in, and their names sort before the
# region's availability zones ("us-east-1-bos-1a" < "us-east-1a"); they offer few instance types (EC2 User
# Guide, Local Zones). moto lists availability zones only, which hid a host placed in a Local Zone. This one
# offers no instance type here (moto's offerings data has none for it), like a zone without t4g.
LOCAL_ZONES = {"us-east-1": Zone(region_name="us-east-1", name="us-east-1-bos-1a", zone_id="use1-bos1-az1",
                                 zone_type="local-zone")}
for _region, _zone in LOCAL_ZONES.items():
    if all(z.name != _zone.name for z in RegionsAndZonesBackend.zones.get(_region, [])):
        RegionsAndZonesBackend.zones.setdefault(_region, []).append(_zone)

# RunInstances, CreditSpecification: "Default: standard (T2 instances) or unlimited (T3/T3a/T4g instances)"
# (EC2 API reference); unlimited bills surplus CPU credits. moto ignores the request and answers "standard"
# for every instance, which hid a t4g host launched unlimited. Kept per instance, as AWS keeps it.
_requested = threading.local()
_moto_run_instances = InstanceResponse.run_instances
_moto_backend_run_instances = InstanceBackend.run_instances


def default_cpu_credits(instance_type: str) -> str:
    """The credit option AWS gives a burstable instance launched without one."""
    return "standard" if instance_type.startswith("t2.") else "unlimited"


def _run_instances(self: InstanceResponse) -> ActionResult:
    _requested.cpu_credits = self._get_param("CreditSpecification.CpuCredits")
    try:
        return _moto_run_instances(self)
    finally:
        _requested.cpu_credits = None


def _backend_run_instances(self: InstanceBackend, *args: object, **kwargs: object) -> object:
    reservation = _moto_backend_run_instances(self, *args, **kwargs)
    for instance in reservation.instances:
        instance.cpu_credits = getattr(_requested, "cpu_credits", None) or default_cpu_credits(instance.instance_type)
    return reservation


def _describe_instance_credit_specifications(self: InstanceResponse) -> ActionResult:
    instances = self.ec2_backend.describe_instance_credit_specifications(self._get_param("InstanceIds", []))
    return ActionResult({"InstanceCreditSpecifications": [
        {"InstanceId": i.id, "CpuCredits": getattr(i, "cpu_credits", None) or default_cpu_credits(i.instance_type)}
        for i in instances]})


InstanceResponse.run_instances = _run_instances
InstanceBackend.run_instances = _backend_run_instances
InstanceResponse.describe_instance_credit_specifications = _describe_instance_credit_specifications

if __name__ == "__main__":
    main()
