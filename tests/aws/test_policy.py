"""Policy checks: the provisioned state, read back through the AWS API, is secure and tagged.

Runs unchanged against real AWS (TINY_AWS_ENV=staging, `make aws-policy ENV=staging`).
"""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from botocore.exceptions import ClientError
from conftest import TENANTS

REQUIRED_TAGS = {"project", "env", "owner", "cost-center"}


def tags_of(items: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def assert_tagged(live, tags: dict[str, str], what: str) -> None:
    missing = REQUIRED_TAGS - set(tags)
    assert not missing, f"{what} lacks tags {sorted(missing)}"
    assert tags["env"] == live.env and tags["project"] == "tiny-analytics"


@pytest.fixture(scope="module")
def prefix(provisioned) -> str:
    return f"tiny-analytics-{provisioned.env}"


@pytest.fixture(scope="module")
def vpc(provisioned, prefix):
    vpcs = provisioned.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [prefix]}])["Vpcs"]
    assert len(vpcs) == 1
    return vpcs[0]


@pytest.fixture(scope="module")
def groups(provisioned, vpc, prefix):
    found = provisioned.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]
    return {g["GroupName"].removeprefix(f"{prefix}-"): g for g in found if g["GroupName"].startswith(prefix)}


@pytest.fixture(scope="module")
def instance(provisioned, prefix):
    reservations = provisioned.client("ec2").describe_instances(Filters=[
        {"Name": "tag:Name", "Values": [f"{prefix}-airflow"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert len(instances) == 1, "exactly one Airflow host"
    return instances[0]


@pytest.fixture(scope="module")
def database(provisioned, prefix):
    return provisioned.client("rds").describe_db_instances(DBInstanceIdentifier=f"{prefix}-db")["DBInstances"][0]


def test_vpc_tagged(live, vpc):
    assert_tagged(live, tags_of(vpc.get("Tags")), "VPC")


def test_subnets_public_and_two_private_zones(live, vpc):
    subnets = live.client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    by_tier = {}
    for s in subnets:
        assert_tagged(live, tags_of(s.get("Tags")), f"subnet {s['CidrBlock']}")
        by_tier.setdefault(tags_of(s["Tags"])["tier"], []).append(s)
    assert len(by_tier["public"]) == 1 and by_tier["public"][0]["MapPublicIpOnLaunch"]
    private = by_tier["private"]
    assert len(private) == 2 and not any(s["MapPublicIpOnLaunch"] for s in private)
    assert len({s["AvailabilityZone"] for s in private}) == 2
    # Only availability zones that offer the host's type: not a Local Zone, not one without t4g (EC2 User Guide:
    # Local Zones; DescribeInstanceTypeOfferings)
    ec2, zones = live.client("ec2"), sorted({s["AvailabilityZone"] for s in subnets})
    found = ec2.describe_availability_zones(ZoneNames=zones)["AvailabilityZones"]
    kinds = {z["ZoneName"]: z.get("ZoneType") for z in found}
    assert kinds == dict.fromkeys(zones, "availability-zone"), kinds
    offered = {o["Location"] for o in ec2.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [
            live.variables.get("airflow_instance_type", "t4g.medium")]}])["InstanceTypeOfferings"]}
    assert set(zones) <= offered, f"zones {zones}, the instance type is offered in {sorted(offered)}"


def test_public_route_through_internet_gateway(live, vpc):
    tables = live.client("ec2").describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    routes = [r for t in tables["RouteTables"] for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert routes and routes[0]["GatewayId"].startswith("igw-")


def test_airflow_group_admits_only_admin_cidrs(live, groups):
    admin = set(live.variables["admin_cidrs"])
    ingress = groups["airflow"]["IpPermissions"]
    assert sorted(p["FromPort"] for p in ingress) == [22, 443]
    for perm in ingress:
        assert {r["CidrIp"] for r in perm["IpRanges"]} == admin
        assert not perm.get("UserIdGroupPairs")


def test_database_admits_only_the_airflow_group(live, groups):
    (perm,) = groups["db"]["IpPermissions"]
    assert (perm["FromPort"], perm["ToPort"]) == (5432, 5432)
    assert not perm["IpRanges"]
    assert [p["GroupId"] for p in perm["UserIdGroupPairs"]] == [groups["airflow"]["GroupId"]]
    assert groups["db"]["IpPermissionsEgress"] == []


def test_every_rule_has_a_description(live, groups):
    for name, group in groups.items():
        assert_tagged(live, tags_of(group.get("Tags")), f"security group {name}")
        for perm in group["IpPermissions"] + group["IpPermissionsEgress"]:
            for source in perm["IpRanges"] + perm.get("UserIdGroupPairs", []):
                assert source.get("Description"), f"{name}: rule {perm.get('FromPort')} has no description"
        no_world = [p for p in group["IpPermissions"] for r in p["IpRanges"] if r["CidrIp"] == "0.0.0.0/0"]
        assert not no_world, f"{name} admits the world"


def test_instance_requires_imdsv2_and_encrypted_gp3(live, instance):
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert_tagged(live, tags_of(instance.get("Tags")), "instance")
    volume_ids = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
    volumes = live.client("ec2").describe_volumes(VolumeIds=volume_ids)["Volumes"]
    assert volumes and all(v["Encrypted"] and v["VolumeType"] == "gp3" for v in volumes)
    assert instance["InstanceType"] == live.variables.get("airflow_instance_type", "t4g.medium")


def test_burstable_host_runs_on_standard_credits(live, instance):
    """t3/t4g launch "unlimited" unless RunInstances says otherwise (EC2 API reference, CreditSpecification), and
    unlimited bills surplus CPU credits beyond the estimate."""
    (spec,) = live.client("ec2").describe_instance_credit_specifications(
        InstanceIds=[instance["InstanceId"]])["InstanceCreditSpecifications"]
    assert spec["CpuCredits"] == live.variables.get("airflow_cpu_credits", "standard")


def test_instance_runs_debian_12(live, instance):
    """A Debian 12 image from Debian's account; the newest one when the host was launched (on the local cloud,
    where the image list does not change; on AWS a newer image may have appeared since, and the host is kept)."""
    images = live.client("ec2").describe_images(
        Owners=["136693071363"], Filters=[{"Name": "name", "Values": ["debian-12-arm64-*"]}])["Images"]
    assert instance["ImageId"] in {i["ImageId"] for i in images}
    if live.env == "local":
        newest = max(images, key=lambda i: i["CreationDate"] if i.get("CreationDate") else i["Name"])
        assert instance["ImageId"] == newest["ImageId"]


def _partition(region: str) -> str:
    """ARN partition of a region (AWS General Reference: ARNs)."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _inline_policy(iam, role: str, name: str) -> dict:
    doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _statements(doc: dict) -> set[tuple]:
    """A policy's statements as comparable values: (effect, actions, resources, condition)."""
    return {(st["Effect"], tuple(sorted(_listed(st["Action"]))), tuple(sorted(_listed(st.get("Resource", [])))),
             json.dumps(st.get("Condition"), sort_keys=True)) for st in doc["Statement"]}


def _allow(actions: list[str], resources: list[str], condition: dict | None = None) -> tuple:
    return "Allow", tuple(sorted(actions)), tuple(sorted(resources)), json.dumps(condition, sort_keys=True)


def _trust(role: dict) -> dict:
    doc = role["AssumeRolePolicyDocument"]
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


@pytest.fixture(scope="module")
def arns(provisioned, prefix):
    """ARN prefixes of this account and partition: roles and the project's buckets."""
    partition = _partition(provisioned.variables["aws_region"])
    account = provisioned.client("sts").get_caller_identity()["Account"]
    return {"roles": f"arn:{partition}:iam::{account}:role", "raw": f"arn:{partition}:s3:::{prefix}-raw-{account}",
            "logs": f"arn:{partition}:s3:::{prefix}-logs-{account}"}


def _only_inline(iam, role: str, name: str) -> dict:
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [name]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    return _inline_policy(iam, role, name)


def test_instance_profile_may_only_assume_the_data_roles(live, instance, prefix, arns):
    """The host's own credentials reach no data: they may only assume the platform's and the current tenants'
    roles (tests/infra/test_object_store.py shows what each role reaches from the host)."""
    assert instance["IamInstanceProfile"]["Arn"].endswith(f"/{prefix}-airflow")
    iam = live.client("iam")
    profile = iam.get_instance_profile(InstanceProfileName=f"{prefix}-airflow")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [f"{prefix}-airflow"]
    roles = arns["roles"]
    assert _statements(_only_inline(iam, f"{prefix}-airflow", "assume-data-roles-only")) == {_allow(
        ["sts:AssumeRole"],
        [f"{roles}/{prefix}-platform"] + [f"{roles}/{prefix}/tenants/{prefix}-tenant-{t}" for t in TENANTS])}


def test_the_platform_role_reaches_task_logs_and_raw_names_only(live, prefix, arns):
    iam = live.client("iam")
    role = iam.get_role(RoleName=f"{prefix}-platform")["Role"]
    assert _statements(_trust(role)) == {("Allow", ("sts:AssumeRole",), (), "null")} and \
        [st["Principal"] for st in _trust(role)["Statement"]] == [{"AWS": f"{arns['roles']}/{prefix}-airflow"}]
    assert_tagged(live, tags_of(role.get("Tags")), role["RoleName"])
    assert _statements(_only_inline(iam, role["RoleName"], "platform-data-only")) == {
        _allow(["s3:ListBucket", "s3:GetBucketLocation"], [arns["logs"]]),
        _allow(["s3:GetObject", "s3:PutObject"], [f"{arns['logs']}/*"]),
        _allow(["s3:ListBucket"], [arns["raw"]], {"StringLike": {"s3:prefix": ["raw/*"]}})}


def test_each_tenant_role_reaches_only_its_prefixes(live, prefix, arns):
    """One role per tenant file, under /<prefix>/tenants/, that only the host's role may assume; its one policy
    names only the tenant's prefixes of the raw bucket, for listing (s3:prefix) and for objects. On the local
    cloud a departed tenant's role was there before provision (tests/aws/conftest.py): provision removed it."""
    iam = live.client("iam")
    found = iam.list_roles(PathPrefix=f"/{prefix}/tenants/")["Roles"]
    assert sorted(r["RoleName"] for r in found) == sorted(f"{prefix}-tenant-{t}" for t in TENANTS)
    raw = arns["raw"]
    for role in found:
        tenant = role["RoleName"].removeprefix(f"{prefix}-tenant-")
        trust = _trust(role)["Statement"]
        assert [(st["Effect"], st["Principal"], st["Action"]) for st in trust] == [
            ("Allow", {"AWS": f"{arns['roles']}/{prefix}-airflow"}, "sts:AssumeRole")]
        assert_tagged(live, tags_of(iam.get_role(RoleName=role["RoleName"])["Role"].get("Tags")), role["RoleName"])
        assert _statements(_only_inline(iam, role["RoleName"], "tenant-data-only")) == {
            _allow(["s3:ListBucket"], [raw],
                   {"StringLike": {"s3:prefix": [f"{k}/{tenant}/*" for k in ("raw", "staging", "quarantine")]}}),
            _allow(["s3:GetObject"], [f"{raw}/raw/{tenant}/*"]),
            _allow(["s3:GetObject", "s3:PutObject"], [f"{raw}/staging/{tenant}/*"]),
            _allow(["s3:PutObject"], [f"{raw}/quarantine/{tenant}/*"])}


def test_database_encrypted_private_backed_up(live, database, groups):
    assert database["StorageEncrypted"] is True
    assert database["PubliclyAccessible"] is False
    assert database["BackupRetentionPeriod"] >= 1
    assert database["DeletionProtection"] is (live.env == "production")
    assert database["DBInstanceClass"] == live.variables.get("db_instance_class", "db.t4g.micro")
    assert database["StorageType"] == "gp3"
    assert [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]] == [groups["db"]["GroupId"]]
    assert len(database["DBSubnetGroup"]["Subnets"]) == 2
    assert_tagged(live, tags_of(database.get("TagList")), "database")


def test_database_reports_a_minor_version_and_has_nothing_pending(live, database):
    """RDS reports the full minor version it chose for a major-only request (CreateDBInstance, EngineVersion), and
    the re-provision queued no modification (DescribeDBInstances, PendingModifiedValues)."""
    major = str(live.variables.get("db_engine_version", "16")).split(".")[0]
    assert re.fullmatch(rf"{major}\.\d+", database["EngineVersion"]), database["EngineVersion"]
    assert not database.get("PendingModifiedValues"), database["PendingModifiedValues"]


@pytest.mark.parametrize("kind", ["raw", "artifacts", "logs"])
def test_bucket_private_versioned_encrypted(live, kind):
    s3 = live.client("s3")
    account = live.client("sts").get_caller_identity()["Account"]
    name = f"tiny-analytics-{live.env}-{kind}-{account}"
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert_tagged(live, tags_of(s3.get_bucket_tagging(Bucket=name)["TagSet"]), f"bucket {kind}")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert all(r["Status"] == "Enabled" for r in rules), rules
    # Versioned: old versions and abandoned multipart uploads are billed until removed (S3 lifecycle docs)
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0) >= 1 for r in rules), rules
    assert any(r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation", 0) >= 1 for r in rules), rules
    if kind == "logs":
        assert any(r.get("Expiration", {}).get("Days", 0) >= 1 for r in rules), rules


@pytest.mark.parametrize("kind", ["raw", "artifacts", "logs"])
def test_bucket_refuses_plain_http(live, kind):
    """S3 answers plain HTTP as well as HTTPS; each bucket's policy denies every request whose
    aws:SecureTransport is false (S3 User Guide, "Enforce encryption of data in transit"). Nothing is written:
    the plain-HTTP upload is refused, and HTTPS only lists."""
    account = live.client("sts").get_caller_identity()["Account"]
    name = f"tiny-analytics-{live.env}-{kind}-{account}"
    plain = live.plain_http_client("s3")
    assert plain.meta.endpoint_url.startswith("http://"), plain.meta.endpoint_url
    refused = {"list": lambda: plain.list_objects_v2(Bucket=name, MaxKeys=1),
               "put": lambda: plain.put_object(Bucket=name, Key="tls-check/plain-http.txt", Body=b"clear text"),
               "get": lambda: plain.get_object(Bucket=name, Key="tls-check/plain-http.txt")}
    for what, call in refused.items():
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDenied", (what, denied.value.response)
    assert "KeyCount" in live.client("s3").list_objects_v2(Bucket=name, MaxKeys=1)  # over HTTPS: allowed


def test_secrets_are_secure_strings(live):
    # DescribeParameters answers 10 at a time (MaxResults' default, SSM API reference): every page
    pages = live.client("ssm").get_paginator("describe_parameters").paginate(ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [f"/tiny-analytics/{live.env}"]}])
    params = [p for page in pages for p in page["Parameters"]]
    assert {p["Name"].rsplit("/", 1)[-1] for p in params} >= {
        "db_master_password", "airflow_fernet_key", "airflow_api_secret_key", "airflow_admin_password",
        "airflow_db_password", "etl_db_password", "platform_ca_key"}
    # Every secret is encrypted; the plain parameters are provision's outputs (names and addresses only,
    # test_provision.py checks no secret value is in it) and the platform CA's certificate (public).
    plain = {p["Name"] for p in params if p["Type"] != "SecureString"}
    assert plain <= {f"/tiny-analytics/{live.env}/platform/outputs", f"/tiny-analytics/{live.env}/platform/ca_cert"}
    assert f"/tiny-analytics/{live.env}/platform_ca_key" not in plain
