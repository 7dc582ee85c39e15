"""The local AWS endpoint: moto server, plus what AWS reports and moto leaves out.

Run as `python -m ci.localcloud.moto_server -H HOST -p PORT --plain-port PORT --ssl-cert F --ssl-key F`: HTTPS on
PORT and the same API over plain HTTP on the plain port, as AWS's endpoints answer both. Each fix makes the
stand-in answer as AWS does, so the playbooks stay identical for both; none changes a playbook's behaviour
beyond what AWS itself does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import xmltodict
from moto import settings as moto_settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses.instances import InstanceResponse
from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, IAMRequestBase, PermissionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.rds.models import DBInstance
from moto.s3.exceptions import BucketAccessDeniedError, MissingBucket, S3AccessDeniedError
from moto.s3.models import FakeBucket
from moto.s3.responses import ACTION_MAP as S3_ACTION_MAP
from moto.s3.responses import S3Response
from moto.sts.exceptions import STSValidationError
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse
from werkzeug.serving import make_server

from ci.localcloud import policies
from ci.localcloud.endpoint import ADMIN, DEPLOYER
from ci.localcloud.policy_relaxation import for_moto

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

# --- IAM, enforced -------------------------------------------------------------------------------------------
# moto authorizes every request once INITIAL_NO_AUTH_ACTION_COUNT requests went through unchecked. Here that
# count is 0: the identities are created in this process before it serves, so no request is ever unchecked.
# Requests must then be signed with a key moto knows (SigV4, checked), by an identity whose policies allow the
# action: moto's answer is AWS's AccessDenied naming the user and the action. moto asks about the resource
# only for S3 (and IAM role actions); for the other services it asks about "*" (moto.core.responses.call_action).
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


# The IAM action each S3 request needs, as AWS names it ("Actions, resources, and condition keys for Amazon
# S3", Service Authorization Reference) where moto names the API operation instead (HeadBucket), or lets a
# configuration request fall through to ListBucket / CreateBucket (encryption, ownership controls; its key
# for the public access block is "public_access_block", a query parameter S3 spells publicAccessBlock). Either
# way moto asked for a permission AWS does not, or for a more lenient one than AWS does.
S3_ACTIONS_AS_AWS_NAMES_THEM = {
    ("BUCKET", "HEAD"): {"DEFAULT": "ListBucket"},
    ("BUCKET", "GET"): {"encryption": "GetEncryptionConfiguration", "publicAccessBlock": "GetBucketPublicAccessBlock",
                        "ownershipControls": "GetBucketOwnershipControls", "requestPayment": "GetBucketRequestPayment",
                        "object-lock": "GetBucketObjectLockConfiguration"},
    ("BUCKET", "PUT"): {"encryption": "PutEncryptionConfiguration", "publicAccessBlock": "PutBucketPublicAccessBlock",
                        "ownershipControls": "PutBucketOwnershipControls", "requestPayment": "PutBucketRequestPayment",
                        "object-lock": "PutBucketObjectLockConfiguration"},
    ("BUCKET", "DELETE"): {"encryption": "PutEncryptionConfiguration",
                           "publicAccessBlock": "PutBucketPublicAccessBlock",
                           "ownershipControls": "PutBucketOwnershipControls"},
}
for (_kind, _method), _names in S3_ACTIONS_AS_AWS_NAMES_THEM.items():
    S3_ACTION_MAP[_kind][_method].pop("public_access_block", None)
    S3_ACTION_MAP[_kind][_method].update(_names)


# DeleteObjects: "you must have the s3:DeleteObject permission" for each object (s3:DeleteObjectVersion to
# delete a version; S3 API reference, DeleteObjects), so a policy scoped to bucket/* allows emptying a bucket.
# moto asked for s3:DeleteObject on the bucket's ARN, which such a policy never matches: every key came back
# AccessDenied and a teardown could not empty a bucket. Here each object is authorized on its own ARN.
_moto_bucket_post = S3Response._bucket_response_post


def _bucket_response_post(self: S3Response, request: object, bucket_name: str) -> object:
    if not request.headers.get("Content-Length"):
        return _moto_bucket_post(self, request, bucket_name)
    self.path = self._get_path(request)
    if not self.is_delete_keys():
        return _moto_bucket_post(self, request, bucket_name)
    objects = xmltodict.parse(self.body, strip_whitespace=False)["Delete"].get("Object", [])
    allowed = True
    for obj in objects if isinstance(objects, list) else [objects]:
        self.data["Action"] = "DeleteObjectVersion" if obj.get("VersionId") else "DeleteObject"
        try:
            self._authenticate_and_authorize_s3_action(bucket_name=bucket_name, key_name=obj["Key"])
        except (BucketAccessDeniedError, S3AccessDeniedError):
            allowed = False
            break
    return self._bucket_response_delete_keys(bucket_name, authenticated=allowed)


S3Response._bucket_response_post = _bucket_response_post


# --- Bucket policies, with the request's transport --------------------------------------------------------------
# A bucket policy applies to every request on the bucket and its objects (S3 User Guide, How Amazon S3 authorizes a
# request). moto consults it for object requests only, and with its trust-policy check: a condition that is not met
# makes even a Deny statement deny, so a bucket refusing plain HTTP (`Bool aws:SecureTransport false`) refused HTTPS
# too. Here every S3 request is decided against its bucket's policy by ci.localcloud.policies, for the exact
# action moto authorizes, with aws:SecureTransport from the connection it came on. A request the server did not
# mark counts as plain HTTP (strict).
_transport = threading.local()
DECISIONS_AS_MOTO = {"deny": PermissionResult.DENIED, "allow": PermissionResult.PERMITTED,
                     "neutral": PermissionResult.NEUTRAL}


def request_context() -> dict[str, str]:
    """The global condition keys of the request being served (aws:SecureTransport)."""
    return {"aws:SecureTransport": "true" if getattr(_transport, "secure", False) else "false"}


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    # Inside an object request _key_response has decided already, for the exact action; moto's own early check
    # asks with the HTTP method's action (PUT: PutObject, even for PutObjectTagging) and answers a bare 403.
    if self.policy is None or getattr(_transport, "object_decided", False):
        return PermissionResult.NEUTRAL
    return DECISIONS_AS_MOTO[policies.decide(json.loads(self.policy), action, resource, request_context())]


FakeBucket.get_permission = _get_permission


def _refuse_if_bucket_denies(response: S3Response, bucket_name: str | None, key_name: str | None) -> None:
    """AccessDenied when the bucket's policy denies the request's action (response.data["Action"]), logged."""
    if not bucket_name:
        return
    try:
        bucket = response.backend.get_bucket(bucket_name)
    except MissingBucket:
        return
    action = f"s3:{response.data.get('Action', '')}"
    resource = f"arn:{bucket.partition}:s3:::{bucket_name}" + (f"/{key_name}" if key_name else "")
    if bucket.get_permission(action, resource) == PermissionResult.DENIED:
        _record({"who": "bucket-policy", "action": action, "resource": resource, "allowed": False,
                 **request_context()})
        raise BucketAccessDeniedError(bucket=bucket_name)


_moto_authorize_s3 = S3Response._authenticate_and_authorize_s3_action


def _authorize_s3(self: S3Response, bucket_name: str | None = None, key_name: str | None = None) -> None:
    _moto_authorize_s3(self, bucket_name=bucket_name, key_name=key_name)
    _refuse_if_bucket_denies(self, bucket_name, key_name)


S3Response._authenticate_and_authorize_s3_action = _authorize_s3
_moto_key_response = S3Response._key_response


def _key_response(self: S3Response, request: object, full_url: str) -> object:
    # The exact action first, as moto's handlers name it (_set_action with the query), then moto's path with its
    # early check answered (see _get_permission).
    self._set_action("KEY", request.method, parse_qs(urlparse(full_url).query, keep_blank_values=True))
    _refuse_if_bucket_denies(self, self.parse_bucket_name_from_url(request, full_url), self.parse_key_name())
    _transport.object_decided = True
    try:
        return _moto_key_response(self, request, full_url)
    finally:
        _transport.object_decided = False


S3Response._key_response = _key_response


def transport_aware(app: Callable, secure: bool) -> Callable:
    """The WSGI app, telling the policy checks whether this request came over TLS."""

    def serve(environ: dict, start_response: Callable) -> Iterable[bytes]:
        _transport.secure = secure
        return app(environ, start_response)

    return serve


def create_identities(deployer_policy: Path, instance_roles: list[str]) -> dict[str, dict[str, str]]:
    """The deployer (exactly the policy file), a local admin (the harness and tests looking at what AWS itself
    would show), and for each local environment's host role the credentials EC2 would hand its instances
    through the instance metadata service (containers have none): moto authorizes them with that role's
    policies as provision wrote them."""
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    sts = sts_backends[DEFAULT_ACCOUNT_ID]["aws"]
    keys: dict[str, dict[str, str]] = {}
    policy = iam.create_policy(description="tiny-analytics deployer (ansible/iam/deployer-policy.json)",
                               path="/", policy_document=json.dumps(for_moto(json.loads(deployer_policy.read_text()))),
                               policy_name=DEPLOYER, tags=[])
    for name, attach in ((DEPLOYER, policy.arn), (ADMIN, None)):
        iam.create_user("us-east-1", name)
        if attach:
            iam.attach_user_policy(attach, name)
        else:
            iam.put_user_policy(name, "everything", json.dumps(ADMIN_POLICY))
        key = iam.create_access_key(name)
        keys[name] = {"AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key}
    for role in instance_roles:
        assumed = sts.assume_role(region_name="us-east-1", role_session_name="instance",
                                  role_arn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{role}", policy="",
                                  duration=43200, external_id="")
        keys[f"role/{role}"] = {"AWS_ACCESS_KEY_ID": assumed.access_key_id,
                                "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
                                "AWS_SESSION_TOKEN": assumed.session_token}
    return keys


_moto_check = IAMRequestBase.check_action_permitted
_decisions_lock = threading.Lock()
DECISIONS: list[Path] = []  # the log file, once enforce_iam set it


def _record(decision: dict) -> None:
    """Append one decision to the decisions log, once enforce_iam named it."""
    if DECISIONS:
        with _decisions_lock, DECISIONS[0].open("a") as out:
            out.write(json.dumps(decision) + "\n")


# --- Role sessions: their policies' conditions, and the trust policy's principal -------------------------------
# A role session (the host's instance role, a tenant's role the host assumed) is decided here, not by moto:
# - moto skips a condition whose operator it does not know (StringLike) and one whose key it is not given
#   (s3:prefix), so a ListBucket allowed only under `raw/acme/*` listed every prefix. Here the request's keys
#   are given (S3's s3:prefix and s3:delimiter, "Actions, resources, and condition keys for Amazon S3") and an
#   Allow whose condition is not met does not apply;
# - AssumeRole needs the caller's policies to allow it on the role, and the role's trust policy to name the
#   caller: a role's ARN names its sessions ("AWS JSON policy elements: Principal", Role sessions). moto compared
#   the session's ARN with the role's and refused every session.
S3_REQUEST_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter"}


def _role_session_context(request: IAMRequestBase) -> dict[str, str]:
    data = request._data if isinstance(request._data, dict) else {}
    keys = {} if not request._action.startswith("s3:") else {
        key: values[0] if isinstance(values, list) else values
        for name, key in S3_REQUEST_KEYS.items() if (values := data.get(name)) not in (None, [])}
    return {**request_context(), **keys}


def _check_role_session(request: IAMRequestBase, resource: str) -> None:
    key: AssumedRoleAccessKey = request._access_key
    try:  # a session of a role deleted since (a departed tenant's) holds nothing: AccessDenied, as on AWS
        role = request.backend.get_role(key._owner_role_name)
        held = [IAMPolicy(p)._policy_json for p in key.collect_policies()]
    except NotFoundException:
        request._raise_access_denied()
    context = _role_session_context(request)
    allowed = policies.decide(held, request._action, resource, context, callers=None) == "allow"
    if allowed and request._action == "sts:AssumeRole":
        try:
            trust = json.loads(request.backend.get_role_by_arn(resource).assume_role_policy_document)
        except NotFoundException:  # no such role: AWS answers AccessDenied too
            trust = {}
        allowed = policies.decide(trust, request._action, resource, context,
                                  callers=frozenset({key.arn, role.arn}), trust_policy=True) == "allow"
    if not allowed:
        request._raise_access_denied()


# AssumeRole, DurationSeconds: at most the role's MaxSessionDuration, and at most one hour when the caller is
# itself a role session ("role chaining", as the Airflow host assuming a tenant's role is) (STS API reference,
# AssumeRole; IAM User Guide, "Roles terms and concepts"). moto granted any duration.
ROLE_CHAINING_LIMIT = 3600
_moto_assume_role = TokenResponse.assume_role


def _assume_role(self: TokenResponse) -> ActionResult:
    duration = self._get_int_param("DurationSeconds", 3600)
    backend = iam_backends[self.current_account]["aws"]
    try:
        limit = int(backend.get_role_by_arn(self._get_param("RoleArn")).max_session_duration or 3600)
    except NotFoundException:
        limit = None
    if limit is not None and duration > limit:
        raise STSValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    sessions = sts_backends[self.current_account]["aws"].assumed_roles
    chained = any(r.access_key_id == self.get_access_key() for r in sessions)
    if chained and duration > ROLE_CHAINING_LIMIT:
        raise STSValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    return _moto_assume_role(self)


TokenResponse.assume_role = _assume_role


def _check_and_record(self: IAMRequestBase, resource: str) -> None:
    """The check (moto's, or _check_role_session's for a role session), each decision appended to the decisions
    log (who, action, resource, allowed): what a run needed, and what was denied. Bucket policies' denials are
    logged too, as who "bucket-policy"."""
    allowed = False
    try:
        if isinstance(self._access_key, AssumedRoleAccessKey) and self._action != "sts:GetCallerIdentity":
            _check_role_session(self, resource)
        else:
            _moto_check(self, resource)
        allowed = True
    finally:
        _record({"who": self._access_key.arn.rsplit(":", 1)[-1], "action": self._action, "resource": resource,
                 "allowed": allowed})


IAMRequestBase.check_action_permitted = _check_and_record


def enforce_iam(identities: Path, deployer_policy: Path, instance_roles: list[str], decisions: Path) -> None:
    """Create the identities, write their keys to `identities` (owner-only), and check every request."""
    keys = create_identities(deployer_policy, instance_roles)
    # Written aside, then renamed: `Moto.up` waits for the file to exist, and then it must be whole.
    partial = identities.with_name(identities.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(keys, indent=2) + "\n")
    partial.replace(identities)
    DECISIONS[:] = [decisions]
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0


class HandshakeInRequestThread(ssl.SSLContext):
    """werkzeug wraps the listening socket, so each accept() would run the TLS handshake in the one accepting
    thread: a client that connects and sends nothing would hold up every other. Deferred, the handshake runs on
    the request thread's first read."""

    def wrap_socket(self, sock: socket.socket, *args: object, **kwargs: object) -> ssl.SSLSocket:
        """The socket, its handshake left to the first read."""
        kwargs["do_handshake_on_connect"] = False
        return super().wrap_socket(sock, *args, **kwargs)


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2 and later (what AWS's endpoints require since 2024, AWS Security Blog, TLS 1.2 to become the
    minimum TLS protocol level for all AWS API endpoints)."""
    context = HandshakeInRequestThread(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


def serve(host: str, port: int, plain_port: int, cert: Path, key: Path) -> None:
    """moto's application on HTTPS (port) and plain HTTP (plain_port), one set of backends; until SIGTERM."""
    os.environ.setdefault("MOTO_PORT", str(port))  # what moto's own main sets: the port in URLs it hands out
    app = DomainDispatcherApplication(create_backend_app)
    secure = make_server(host, port, transport_aware(app, True), threaded=True, request_handler=MotoRequestHandler,
                         ssl_context=server_tls(cert, key))
    plain = make_server(host, plain_port, transport_aware(app, False), threaded=True,
                        request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=plain.serve_forever, name="plain-http", daemon=True).start()
    secure.serve_forever()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The server's options."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True, help="HTTPS")
    parser.add_argument("--plain-port", type=int, required=True, help="plain HTTP")
    parser.add_argument("--ssl-cert", type=Path, required=True)
    parser.add_argument("--ssl-key", type=Path, required=True)
    parser.add_argument("--identities", type=Path, help="enforce IAM; write the identities' keys here")
    parser.add_argument("--deployer-policy", type=Path)
    parser.add_argument("--instance-roles", default="", help="comma-separated role names")
    parser.add_argument("--decisions", type=Path, help="append each IAM decision here (JSON lines)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_arguments()
    if options.identities:
        enforce_iam(options.identities, options.deployer_policy,
                    [r for r in options.instance_roles.split(",") if r], options.decisions)
    serve(options.host, options.port, options.plain_port, options.ssl_cert, options.ssl_key)
