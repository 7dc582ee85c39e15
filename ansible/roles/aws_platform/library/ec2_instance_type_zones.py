#!/usr/bin/python
"""Availability zones of the region that offer an EC2 instance type (describe-instance-type-offerings).

amazon.aws has no module for instance type offerings; this one reads them with the collection's own AWS
connection handling (region, credentials and endpoint from the usual options and environment).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: ec2_instance_type_zones
short_description: Availability zones of the region that offer an EC2 instance type
description:
  - Calls EC2 DescribeInstanceTypeOfferings with LocationType availability-zone and returns the zone names,
    sorted. Read-only; supports check mode.
options:
  instance_type:
    description: The instance type, e.g. t4g.medium.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Zones offering t4g.medium
  ec2_instance_type_zones:
    instance_type: t4g.medium
    region: us-east-1
  register: offered
"""

RETURN = r"""
zones:
  description: Names of the availability zones that offer the instance type, sorted.
  returned: always
  type: list
  elements: str
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402


def main() -> None:
    """Read the offerings of one instance type per availability zone."""
    module = AnsibleAWSModule(argument_spec={"instance_type": {"type": "str", "required": True}},
                              supports_check_mode=True)
    ec2 = module.client("ec2")
    zones: set[str] = set()
    try:
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": [module.params["instance_type"]]}])
        for page in pages:
            zones.update(o["Location"] for o in page["InstanceTypeOfferings"])
    except (BotoCoreError, ClientError) as exc:
        module.fail_json_aws(exc, msg="cannot read the instance type offerings")
    module.exit_json(changed=False, zones=sorted(zones))


if __name__ == "__main__":
    main()
