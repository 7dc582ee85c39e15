"""The local cloud's AWS endpoint: started with its PID recorded, answering, stopped by that PID."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError

from ci.localcloud import LocalCloudError, settings
from ci.localcloud.endpoint import ADMIN, DEPLOYER, Moto, free_port, private_moto
from ci.paths import ROOT
from ci.processes import alive

pytestmark = pytest.mark.slow  # starts processes or services: `make unit-slow`, not the push loop


@pytest.fixture
def moto(tmp_path):
    cloud = Moto(tmp_path)
    yield cloud
    cloud.down()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One running local cloud for the tests that use it as any AWS account (starting one costs a second of
    CPU): each test works in names of its own (users, buckets, instances)."""
    with private_moto(tmp_path_factory.mktemp("shared-cloud")) as state:
        yield state


def _user_with(state, name: str, policy: dict) -> dict[str, str]:
    """Keys of a new IAM user whose only permissions are `policy` (created by the local admin, as on AWS)."""
    iam = _client(state, "iam", ADMIN)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_port_in_use_is_a_clear_error(moto):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LocalCloudError, match=f"127.0.0.1:{port} is already in use"):
            moto.up("127.0.0.1", port)


def test_stale_record_is_ignored(moto, tmp_path):
    (tmp_path / "moto.json").write_text('{"pid": 999999, "host": "127.0.0.1", "port": 1, "log": "x"}')
    assert moto.state() is None
    assert moto.down() is False


def test_cli_up_answers_with_debian_amis_and_down_stops_it_by_pid(tmp_path):
    # The AWS endpoint alone (--aws-only), with its own state and engine folders: no Docker involved.
    env = {**os.environ, "TINY_LOCALCLOUD_DIR": str(tmp_path), "TINY_DOCKER_DIR": str(tmp_path / "docker")}
    env.pop("DOCKER_HOST", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ci", "localcloud", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    assert cli("status").returncode == 3
    port = free_port()
    up = cli("up", "--aws-only", "--port", str(port))
    moto = Moto(tmp_path)
    try:
        assert up.returncode == 0 and f"https://127.0.0.1:{port}" in up.stdout
        status = cli("status")
        assert status.returncode == 0 and "pid" in status.stdout
        state = moto.state()
        assert state is not None and state.port == port
        assert moto.up("127.0.0.1", port) == state  # idempotent: the running one is reused
        names = {i["Name"] for i in _client(state, "ec2").describe_images(Owners=["136693071363"])["Images"]}
        assert "debian-12-arm64-20261101-2000" in names
    finally:
        assert "stopped" in cli("down").stdout
    assert cli("status").returncode == 3
    assert moto.state() is None and moto.down() is False
    assert not alive(state.pid)  # stopped (the CLI that started it is gone: a zombie awaits init, no more)


def test_burstable_hosts_get_the_credit_option_aws_gives_them(shared):
    """RunInstances: CreditSpecification defaults to unlimited for T3/T3a/T4g and standard for T2 (EC2 API
    reference); a requested option is kept. moto itself answered "standard" for every instance."""
    ec2 = _client(shared, "ec2", ADMIN)  # moto's answers, not IAM
    image = ec2.describe_images(Owners=["136693071363"])["Images"][0]["ImageId"]

    def launched(instance_type: str, **extra) -> str:
        (instance,) = ec2.run_instances(ImageId=image, InstanceType=instance_type, MinCount=1, MaxCount=1,
                                        **extra)["Instances"]
        (spec,) = ec2.describe_instance_credit_specifications(
            InstanceIds=[instance["InstanceId"]])["InstanceCreditSpecifications"]
        return spec["CpuCredits"]

    assert launched("t4g.medium") == "unlimited"
    assert launched("t3.small") == "unlimited"
    assert launched("t2.micro") == "standard"
    assert launched("t4g.medium", CreditSpecification={"CpuCredits": "standard"}) == "standard"


def _client(state, service: str, identity: str = DEPLOYER, *, url: str | None = None, verify: bool | str | None = None,
            config: Config | None = None, **keys):
    """A boto3 client of the local cloud as `identity` (or with the given keys): over verified HTTPS unless another
    `url` (the plain-HTTP one) or `verify` is given."""
    creds = keys or state.credentials(identity)
    return boto3.client(service, endpoint_url=url or state.url, region_name="us-east-1", config=config,
                        verify=state.ca_file if verify is None else verify,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds.get("AWS_SESSION_TOKEN"))


def test_iam_is_enforced_from_the_first_request(tmp_path, monkeypatch):
    """IAM evaluates every request: a key it does not know is refused (InvalidClientTokenId, or AuthFailure
    for EC2), an action the identity's policies do not allow is AccessDenied naming the user and the action
    (IAM User Guide, "Troubleshoot access denied error messages"). moto checks nothing by default."""
    policy = tmp_path / "deployer.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:DescribeVpcs", "iam:CreateRole", "iam:PutRolePolicy"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::tiny-*"}]}))
    monkeypatch.setenv("TINY_DEPLOYER_POLICY", str(policy))
    with private_moto(tmp_path / "cloud") as state:
        assert oct((tmp_path / "cloud" / "identities.json").stat().st_mode & 0o777) == "0o600"
        ec2 = _client(state, "ec2")
        # The very first request is checked: a count of unchecked requests above 0 would let it through.
        with pytest.raises(ClientError, match=r"tiny-analytics-deployer is not authorized to perform: "
                                              r"ec2:DescribeSubnets"):
            ec2.describe_subnets()
        ec2.describe_vpcs()
        s3 = _client(state, "s3")
        s3.create_bucket(Bucket="tiny-one")
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.create_bucket(Bucket="other-one")
        with pytest.raises(ClientError, match="AuthFailure"):
            _client(state, "ec2", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing").describe_vpcs()
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            creds = state.credentials("tiny-analytics-deployer")
            _client(state, "sts", AWS_ACCESS_KEY_ID=creds["AWS_ACCESS_KEY_ID"],
                    AWS_SECRET_ACCESS_KEY="wrong").get_session_token()  # pragma: allowlist secret
        _client(state, "s3", ADMIN).create_bucket(Bucket="other-one")


def test_a_host_has_exactly_its_role_s_policies(shared):
    """An EC2 instance acts with its instance profile's role (temporary credentials from the instance metadata
    service): what the role's policies allow, as they are now (IAM User Guide, "Use an IAM role to grant
    permissions to applications running on Amazon EC2 instances")."""
    state = shared
    admin = _client(state, "iam", ADMIN)
    role = "tiny-analytics-local-airflow"
    admin.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    s3_admin = _client(state, "s3", ADMIN)
    for bucket in ("tiny-data", "tiny-other"):
        s3_admin.create_bucket(Bucket=bucket)
    host = _client(state, "s3", f"role/{role}")
    with pytest.raises(ClientError, match="AccessDenied"):
        host.put_object(Bucket="tiny-data", Key="raw/a.csv", Body=b"a")
    admin.put_role_policy(RoleName=role, PolicyName="data", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::tiny-data/*"}]}))
    host.put_object(Bucket="tiny-data", Key="raw/a.csv", Body=b"a")
    with pytest.raises(ClientError, match="AccessDenied"):
        host.put_object(Bucket="tiny-other", Key="raw/a.csv", Body=b"a")


def _tenant_role(state, host_role: str, name: str, bucket: str, tenant: str) -> str:
    """A role the host may assume (trust policy naming the host's role, the host's policy allowing it) that
    reaches only `tenant`'s prefix of `bucket`, as aws_platform writes it; its ARN."""
    admin = _client(state, "iam", ADMIN)
    account = _client(state, "sts", ADMIN).get_caller_identity()["Account"]
    host_arn = f"arn:aws:iam::{account}:role/{host_role}"
    arn = admin.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": host_arn}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    admin.put_role_policy(RoleName=name, PolicyName="prefix", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringLike": {"s3:prefix": [f"raw/{tenant}/*"]}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/raw/{tenant}/*"}]}))
    return arn


def _assumed(state, sts, arn: str):
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="tenant")["Credentials"]
    return _client(state, "s3", AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])


def test_a_role_session_lists_only_the_prefixes_its_policy_names(shared):
    """A ListBucket allowed under a condition on s3:prefix lists only those prefixes, and without a prefix
    nothing ("Actions, resources, and condition keys for Amazon S3": ListBucket, s3:prefix; IAM User Guide,
    Condition operators, StringLike). moto skipped the StringLike condition and listed every tenant's files."""
    state = shared
    host_role = "tiny-analytics-local-prod-airflow"  # a role the endpoint holds instance credentials of
    _client(state, "iam", ADMIN).create_role(RoleName=host_role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    _client(state, "s3", ADMIN).create_bucket(Bucket="prefixes-one")
    for tenant in ("acme", "globex"):
        _client(state, "s3", ADMIN).put_object(Bucket="prefixes-one", Key=f"raw/{tenant}/a.csv", Body=b"a")
    acme = _tenant_role(state, host_role, "prefix-acme", "prefixes-one", "acme")
    sts = _client(state, "sts", f"role/{host_role}")
    with pytest.raises(ClientError, match="AccessDenied"):  # the host's own policies do not allow it yet
        sts.assume_role(RoleArn=acme, RoleSessionName="tenant")
    _client(state, "iam", ADMIN).put_role_policy(RoleName=host_role, PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": acme}]}))
    s3 = _assumed(state, sts, acme)
    listed = s3.list_objects_v2(Bucket="prefixes-one", Prefix="raw/acme/")
    assert [o["Key"] for o in listed["Contents"]] == ["raw/acme/a.csv"]
    assert s3.get_object(Bucket="prefixes-one", Key="raw/acme/a.csv")["Body"].read() == b"a"
    for prefix in ("raw/globex/", "raw/", None):
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.list_objects_v2(Bucket="prefixes-one", **({"Prefix": prefix} if prefix is not None else {}))
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.get_object(Bucket="prefixes-one", Key="raw/globex/a.csv")
    # the role deleted (a departed tenant's): its live session holds nothing any more
    _client(state, "iam", ADMIN).delete_role_policy(RoleName="prefix-acme", PolicyName="prefix")
    _client(state, "iam", ADMIN).delete_role(RoleName="prefix-acme")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.list_objects_v2(Bucket="prefixes-one", Prefix="raw/acme/")


def test_only_the_principals_a_trust_policy_names_assume_the_role(shared):
    """AssumeRole needs both the caller's policy and the role's trust policy, which names the caller (a role's
    ARN names its sessions: IAM User Guide, "AWS JSON policy elements: Principal", Role sessions). moto compared
    the session's own ARN with the role's and refused it; a role trusting another role must still refuse. The
    session lasts at most the role's MaxSessionDuration, and one hour when chained."""
    state = shared
    host_role = "tiny-analytics-local-airflow"
    admin = _client(state, "iam", ADMIN)
    if not any(r["RoleName"] == host_role for r in admin.list_roles()["Roles"]):
        admin.create_role(RoleName=host_role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))
    _client(state, "s3", ADMIN).create_bucket(Bucket="trusts-one")
    mine = _tenant_role(state, host_role, "trust-mine", "trusts-one", "acme")
    others = _tenant_role(state, "someone-else", "trust-others", "trusts-one", "acme")
    admin.put_role_policy(RoleName=host_role, PolicyName="assume-trusts", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": [mine, others]}]}))
    sts = _client(state, "sts", f"role/{host_role}")
    assert sts.assume_role(RoleArn=mine, RoleSessionName="tenant")["AssumedRoleUser"]["Arn"].endswith(
        "assumed-role/trust-mine/tenant")
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=others, RoleSessionName="tenant")
    # DurationSeconds: at most the role's MaxSessionDuration, and one hour for a role session's caller (role
    # chaining; STS API reference, AssumeRole). moto granted any.
    with pytest.raises(ClientError, match="exceeds the MaxSessionDuration set for this role"):
        sts.assume_role(RoleArn=mine, RoleSessionName="tenant", DurationSeconds=7200)
    admin.update_role(RoleName="trust-mine", MaxSessionDuration=43200)
    with pytest.raises(ClientError, match="1 hour session limit for roles assumed by role chaining"):
        sts.assume_role(RoleArn=mine, RoleSessionName="tenant", DurationSeconds=7200)
    assert sts.assume_role(RoleArn=mine, RoleSessionName="tenant", DurationSeconds=3600)["Credentials"]


def test_s3_requests_need_the_permission_aws_names(shared):
    """HeadBucket needs s3:ListBucket; PutBucketEncryption s3:PutEncryptionConfiguration; PutPublicAccessBlock
    s3:PutBucketPublicAccessBlock (S3 API reference, "Permissions" of each operation). moto asked for
    s3:HeadBucket, and for s3:CreateBucket for the other two."""
    state = shared
    s3 = _client(state, "s3", **_user_with(state, "s3-names", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListBucket"], "Resource": "arn:aws:s3:::names-*"}]}))
    s3.create_bucket(Bucket="names-one")
    s3.head_bucket(Bucket="names-one")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_bucket_encryption(Bucket="names-one", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_public_access_block(Bucket="names-one", PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    log = settings.iam_decisions(Path(state.identities).parent)
    decisions = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(d["action"], d["allowed"]) for d in decisions if d["who"] == "user/s3-names"] == [
        ("s3:CreateBucket", True), ("s3:ListBucket", True), ("s3:PutEncryptionConfiguration", False),
        ("s3:PutBucketPublicAccessBlock", False)]


def test_emptying_a_bucket_needs_delete_on_its_objects(shared):
    """DeleteObjects needs s3:DeleteObject for each object (S3 API reference, DeleteObjects), so a policy scoped
    to bucket/* may empty the bucket (teardown does); moto asked for it on the bucket's ARN and refused every
    key."""
    state = shared
    s3 = _client(state, "s3", **_user_with(state, "emptier", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:CreateBucket"], "Resource": "arn:aws:s3:::empty-*"},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::empty-*/*"}]}))
    admin = _client(state, "s3", ADMIN)
    s3.create_bucket(Bucket="empty-one")
    admin.create_bucket(Bucket="full-one")
    keys = [{"Key": "raw/a.csv"}, {"Key": "raw/b.csv"}]
    for bucket in ("empty-one", "full-one"):
        for key in keys:
            admin.put_object(Bucket=bucket, Key=key["Key"], Body=b"x")
    done = s3.delete_objects(Bucket="empty-one", Delete={"Objects": keys})
    assert sorted(d["Key"] for d in done.get("Deleted", [])) == ["raw/a.csv", "raw/b.csv"], done
    assert not done.get("Errors"), done
    refused = s3.delete_objects(Bucket="full-one", Delete={"Objects": keys})
    assert {e["Code"] for e in refused.get("Errors", [])} == {"AccessDenied"} and not refused.get("Deleted")


def test_the_endpoint_speaks_verified_https_and_plain_http_like_aws(shared):
    """AWS's endpoints serve HTTPS with certificates clients verify, and also answer plain HTTP (S3 on port 80):
    the local one does both. Without its CA the SDK refuses it, as it would refuse an impostor of AWS."""
    state = shared
    assert state.url.startswith("https://") and state.plain_url.startswith("http://")
    _client(state, "sts").get_caller_identity()
    unverified = _client(state, "sts", verify=True)  # the SDK's own trust: the public roots
    with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        unverified.get_caller_identity()
    plain = _client(state, "sts", url=state.plain_url)
    assert plain.get_caller_identity()["Arn"].endswith(f"user/{DEPLOYER}")


def test_a_bucket_policy_decides_by_the_request_s_transport(shared):
    """A bucket policy applies to every request on the bucket and its objects, with aws:SecureTransport true over
    HTTPS and false over HTTP (S3 User Guide, "Enforce encryption of data in transit"). moto asked the policy on
    object requests only and counted the Bool condition as met: HTTPS was refused too, listing over HTTP was not."""
    state = shared
    admin = _client(state, "s3", ADMIN)
    plain = _client(state, "s3", ADMIN, url=state.plain_url)
    admin.create_bucket(Bucket="tls-only-one")
    admin.put_object(Bucket="tls-only-one", Key="a.csv", Body=b"x")
    assert plain.get_object(Bucket="tls-only-one", Key="a.csv")["Body"].read() == b"x"  # no policy: S3 answers
    arn = "arn:aws:s3:::tls-only-one"
    admin.put_bucket_policy(Bucket="tls-only-one", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn, f"{arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    for call in (lambda: plain.get_object(Bucket="tls-only-one", Key="a.csv"),
                 lambda: plain.put_object(Bucket="tls-only-one", Key="b.csv", Body=b"y"),
                 lambda: plain.list_objects_v2(Bucket="tls-only-one")):
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert admin.get_object(Bucket="tls-only-one", Key="a.csv")["Body"].read() == b"x"
    assert [o["Key"] for o in admin.list_objects_v2(Bucket="tls-only-one")["Contents"]] == ["a.csv"]


def test_a_bucket_policy_is_asked_for_the_request_s_exact_action(shared):
    """PutObjectTagging is s3:PutObjectTagging, not s3:PutObject (S3 API reference, PutObjectTagging,
    Permissions): a policy denying s3:PutObject leaves tagging alone. moto's early object check asked with the
    HTTP method's action."""
    state = shared
    admin = _client(state, "s3", ADMIN)
    admin.create_bucket(Bucket="exact-one")
    admin.put_object(Bucket="exact-one", Key="a.csv", Body=b"x")
    admin.put_bucket_policy(Bucket="exact-one", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::exact-one/*"}]}))
    admin.put_object_tagging(Bucket="exact-one", Key="a.csv", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    with pytest.raises(ClientError, match="AccessDenied"):
        admin.put_object(Bucket="exact-one", Key="b.csv", Body=b"y")
    log = settings.iam_decisions(Path(state.identities).parent)
    denied = [json.loads(line) for line in log.read_text().splitlines() if '"bucket-policy"' in line]
    assert {"who": "bucket-policy", "action": "s3:PutObject", "resource": "arn:aws:s3:::exact-one/b.csv",
            "allowed": False, "aws:SecureTransport": "true"} in denied


def test_a_silent_connection_holds_up_no_one(shared):
    """A client that opens a connection to the HTTPS port and sends nothing (a stalled handshake) must not stop
    the others: the handshake runs on the connection's own thread."""
    state = shared
    with socket.create_connection((state.host, state.port), timeout=5):
        patient_once = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1})
        sts = _client(state, "sts", ADMIN, config=patient_once)
        assert sts.get_caller_identity()["Arn"].endswith(f"user/{ADMIN}")
