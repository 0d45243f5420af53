"""etcd_auth with a fake etcdctl answering etcd 3.4.23 output recorded on a lab."""

import json

import pytest

from ansible_collections.etcd_ops.etcd.plugins.modules import etcd_auth

PASSWORD = "S3cret!pw"
ARGS = {"user": "root", "password": PASSWORD}
HEADER = {"cluster_id": 4598424983612955305, "member_id": 10164140046384920816, "revision": 1, "raft_term": 2}
NO_USERS = json.dumps({"header": HEADER})
ROOT_USER = json.dumps(dict(header=HEADER, users=["root"]))
HAS_ROOT_ROLE = json.dumps(dict(header=HEADER, roles=["root"]))
NO_ROLES = json.dumps({"header": HEADER})  # omitempty: a user without roles has no "roles" key
# etcdctl 3.4.23 logs the failed request as JSON, then prints the error
USER_NAME_IS_EMPTY = (
    '{"level":"warn","ts":"2024-05-02T10:11:12.345Z","caller":"clientv3/retry_interceptor.go:62","msg":"retrying of '
    'unary invoker failed","target":"endpoint://client-0/127.0.0.1:2379","attempt":0,"error":"rpc error: code = '
    'InvalidArgument desc = etcdserver: user name is empty"}\nError: etcdserver: user name is empty\n')
WRONG_PASSWORD = "Error: etcdserver: authentication failed, invalid user ID or password\n"
CREDENTIALS = ("ETCDCTL_USER", "ETCDCTL_PASSWORD")


def auth_off(fake, users=NO_USERS, roles=HAS_ROOT_ROLE):
    """Auth off: an anonymous user list answers; writes answer as etcdctl 3.4.23 does."""
    fake.on("user list -w json", users)
    fake.on("user get root -w json", roles)
    fake.on("user add root --interactive=false", "User root created\n")
    fake.on("user passwd root --interactive=false", "Password updated\n")
    fake.on("user grant-role root root", "Role root is granted to user root\n")
    fake.on("auth enable", "Authentication Enabled\n")
    return fake


def auth_on(fake, roles=HAS_ROOT_ROLE, rc=0, stderr=""):
    """Auth on: an anonymous user list is refused; `user get root` answers (roles, rc, stderr)."""
    fake.on("user list -w json", rc=1, stderr=USER_NAME_IS_EMPTY)
    fake.on("user get root -w json", roles, rc=rc, stderr=stderr)
    fake.on("auth disable", "Authentication Disabled\n")
    return fake


def commands(fake):
    return [" ".join(argv[1:]) for argv in fake.argvs()]


def env_of(fake, command):
    return [env for argv, env in fake.calls if " ".join(argv[1:]) == command]


def test_auth_off_without_users_creates_root_grants_and_enables(fake_etcd, run_module):
    fake = auth_off(fake_etcd())
    result = run_module(etcd_auth, ARGS)
    assert result["changed"] and result["enabled"]
    assert result["actions"] == ["created user root", "granted role root to root", "enabled auth"]
    assert commands(fake) == ["user list -w json", "user add root --interactive=false", "user grant-role root root",
                              "auth enable", "user get root -w json"]
    assert result["diff"] == {"before": {"auth": "off"}, "after": {"auth": "on"}}
    # the password goes on stdin, and only to the user add
    assert [(" ".join(argv[1:]), data) for argv, data in fake.stdin if data is not None] == [
        ("user add root --interactive=false", PASSWORD)]
    for command in ("user list -w json", "user add root --interactive=false", "user grant-role root root",
                    "auth enable"):
        [env] = env_of(fake, command)
        assert not set(CREDENTIALS) & set(env), command
        assert env["ETCDCTL_ENDPOINTS"] == "http://127.0.0.1:2379"
    # the check that the new credentials log in runs with them, after auth enable
    [env] = env_of(fake, "user get root -w json")
    assert env["ETCDCTL_USER"] == "root" and env["ETCDCTL_PASSWORD"] == PASSWORD
    assert len(result["commands"]) == 5 and result["commands"][1].endswith("etcdctl user add root --interactive=false")


def test_auth_off_with_root_sets_its_password_and_does_not_grant(fake_etcd, run_module):
    fake = auth_off(fake_etcd(), users=ROOT_USER)
    result = run_module(etcd_auth, ARGS)
    assert result["changed"] and result["enabled"]
    assert result["actions"] == ["set the password of user root", "enabled auth"]
    assert commands(fake) == ["user list -w json", "user passwd root --interactive=false", "user get root -w json",
                              "auth enable", "user get root -w json"]
    assert not [c for c in commands(fake) if "add" in c or "grant" in c]
    assert [(" ".join(argv[1:]), data) for argv, data in fake.stdin if data is not None] == [
        ("user passwd root --interactive=false", PASSWORD)]
    # roles read anonymously while auth is off, with the credentials once it is on
    before, after = env_of(fake, "user get root -w json")
    assert not set(CREDENTIALS) & set(before) and after["ETCDCTL_PASSWORD"] == PASSWORD
    assert not set(CREDENTIALS) & set(env_of(fake, "user passwd root --interactive=false")[0])


def test_auth_off_with_root_lacking_the_role_grants_it(fake_etcd, run_module):
    fake = auth_off(fake_etcd(), users=json.dumps(dict(header=HEADER, users=["root", "tmp"])))
    fake.in_turn("user get root -w json", (0, NO_ROLES, ""), (0, HAS_ROOT_ROLE, ""))
    result = run_module(etcd_auth, ARGS)
    assert result["actions"] == ["set the password of user root", "granted role root to root", "enabled auth"]
    assert commands(fake)[1:5] == ["user passwd root --interactive=false", "user get root -w json",
                                   "user grant-role root root", "auth enable"]


def test_auth_on_with_good_credentials_changes_nothing(fake_etcd, run_module):
    fake = auth_on(fake_etcd())
    result = run_module(etcd_auth, ARGS)
    assert not result["changed"] and result["enabled"] and result["actions"] == []
    assert commands(fake) == ["user list -w json", "user get root -w json"]
    [listed] = env_of(fake, "user list -w json")
    [got] = env_of(fake, "user get root -w json")
    assert not set(CREDENTIALS) & set(listed)
    assert got["ETCDCTL_USER"] == "root" and got["ETCDCTL_PASSWORD"] == PASSWORD
    assert all(data is None for argv, data in fake.stdin)
    assert result["diff"] == {"before": {"auth": "on"}, "after": {"auth": "on"}}


def test_auth_on_with_a_wrong_password_fails_with_the_fix(fake_etcd, run_module):
    fake = auth_on(fake_etcd(), roles="", rc=2, stderr=WRONG_PASSWORD)
    result = run_module(etcd_auth, dict(ARGS, password="wrong"))
    assert result["failed"] and result["rc"] == 2
    assert "Fix: etcd refused etcd_user/etcd_password" in result["msg"]
    assert "authentication failed, invalid user ID or password" in result["msg"]
    assert result["actions"] == [] and commands(fake) == ["user list -w json", "user get root -w json"]


@pytest.mark.parametrize("roles, rc, stderr", [
    (NO_ROLES, 0, ""),
    (json.dumps(dict(header=HEADER, roles=["reader"])), 0, ""),
    ("", 1, "Error: etcdserver: permission denied\n"),
], ids=["no-roles", "other-role", "permission-denied"])
def test_auth_on_with_root_lacking_the_root_role_fails(fake_etcd, run_module, roles, rc, stderr):
    fake = auth_on(fake_etcd(), roles=roles, rc=rc, stderr=stderr)
    result = run_module(etcd_auth, ARGS)
    assert result["failed"] and "grant-role" in result["msg"] and "root" in result["msg"]
    assert commands(fake) == ["user list -w json", "user get root -w json"]


@pytest.mark.parametrize("users, actions, reads", [
    (NO_USERS, ["created user root", "granted role root to root", "enabled auth"], ["user list -w json"]),
    (ROOT_USER, ["set the password of user root", "enabled auth"], ["user list -w json", "user get root -w json"]),
], ids=["no-users", "root-exists"])
def test_check_mode_with_auth_off_reports_and_only_reads(fake_etcd, run_module, users, actions, reads):
    fake = auth_off(fake_etcd(), users=users)
    result = run_module(etcd_auth, ARGS, check_mode=True)
    assert result["changed"] and result["actions"] == actions and result["enabled"]
    assert result["diff"] == {"before": {"auth": "off"}, "after": {"auth": "on"}}
    assert commands(fake) == reads
    assert all(data is None for argv, data in fake.stdin)
    assert all(not set(CREDENTIALS) & set(env) for argv, env in fake.calls)


def test_check_mode_with_auth_on_checks_the_login(fake_etcd, run_module):
    fake = auth_on(fake_etcd())
    result = run_module(etcd_auth, ARGS, check_mode=True)
    assert not result["changed"] and result["enabled"]
    assert commands(fake) == ["user list -w json", "user get root -w json"]


def test_disable_with_auth_on_runs_auth_disable_with_credentials(fake_etcd, run_module):
    fake = auth_on(fake_etcd())
    result = run_module(etcd_auth, dict(ARGS, state="disabled"))
    assert result["changed"] and not result["enabled"] and result["actions"] == ["disabled auth"]
    assert commands(fake) == ["user list -w json", "auth disable"]
    [env] = env_of(fake, "auth disable")
    assert env["ETCDCTL_USER"] == "root" and env["ETCDCTL_PASSWORD"] == PASSWORD
    assert result["diff"] == {"before": {"auth": "on"}, "after": {"auth": "off"}}


def test_disable_with_a_wrong_password_fails_with_the_fix(fake_etcd, run_module):
    fake = auth_on(fake_etcd())
    fake.on("auth disable", rc=2, stderr=WRONG_PASSWORD)
    result = run_module(etcd_auth, dict(ARGS, state="disabled", password="wrong"))
    assert result["failed"] and "Fix: etcd refused etcd_user/etcd_password" in result["msg"]
    assert result["actions"] == ["disabled auth"] and commands(fake) == ["user list -w json", "auth disable"]


def test_disable_in_check_mode_runs_nothing(fake_etcd, run_module):
    fake = auth_on(fake_etcd())
    result = run_module(etcd_auth, dict(ARGS, state="disabled"), check_mode=True)
    assert result["changed"] and result["actions"] == ["disabled auth"] and not result["enabled"]
    assert commands(fake) == ["user list -w json"]


def test_disable_with_auth_off_changes_nothing(fake_etcd, run_module):
    fake = auth_off(fake_etcd(), users=ROOT_USER)
    result = run_module(etcd_auth, dict(ARGS, state="disabled"))
    assert not result["changed"] and not result["enabled"] and result["actions"] == []
    assert commands(fake) == ["user list -w json"]
    assert result["diff"] == {"before": {"auth": "off"}, "after": {"auth": "off"}}


def test_an_unreachable_cluster_fails_before_any_change(fake_etcd, run_module):
    fake = fake_etcd().on("user list -w json", rc=1, stderr="Error: context deadline exceeded\n")
    result = run_module(etcd_auth, ARGS)
    assert result["failed"] and "etcdctl user list failed (rc=1): Error: context deadline exceeded" in result["msg"]
    assert commands(fake) == ["user list -w json"] and result["actions"] == []


def test_a_user_other_than_root_is_refused_before_etcdctl(fake_etcd, run_module):
    fake = fake_etcd()
    result = run_module(etcd_auth, dict(ARGS, user="admin"))
    assert result["failed"] and "user is 'admin'" in result["msg"] and "Fix: set user to root" in result["msg"]
    assert fake.calls == []


@pytest.mark.parametrize("password", ["two words", "tab\there", "new\nline", " lead", "trail "])
@pytest.mark.parametrize("state", ["enabled", "disabled"])
def test_a_password_with_a_blank_is_refused_before_etcdctl(fake_etcd, run_module, password, state):
    fake = fake_etcd()
    result = run_module(etcd_auth, dict(ARGS, password=password, state=state))
    assert result["failed"] and "The password holds a blank" in result["msg"] and "Nothing was changed" in result["msg"]
    assert fake.calls == []


@pytest.mark.parametrize("missing", ["user", "password"])
@pytest.mark.parametrize("state", ["enabled", "disabled"])
def test_user_and_password_are_required(fake_etcd, run_module, missing, state):
    fake = fake_etcd()
    args = {k: v for k, v in dict(ARGS, state=state).items() if k != missing}
    result = run_module(etcd_auth, args)
    assert result["failed"] and f"state is {state} but all of the following are missing: {missing}" in result["msg"]
    assert fake.calls == []


def test_an_empty_password_is_refused_before_etcdctl(fake_etcd, run_module):
    # etcdctl would read the module's own stdin (run_command sends no data for ''), and auth would end on
    # without a usable root login
    fake = auth_off(fake_etcd())
    result = run_module(etcd_auth, dict(ARGS, password=""))
    assert result.get("failed") and "The password is empty" in result["msg"] and fake.calls == []


@pytest.mark.parametrize("users", [NO_USERS, ROOT_USER])
def test_the_password_never_reaches_a_command_line_or_the_result(fake_etcd, run_module, users):
    fake = auth_off(fake_etcd(), users=users)
    result = run_module(etcd_auth, ARGS)
    assert result["changed"] and result["commands"]
    assert all(PASSWORD not in command for command in result["commands"])
    assert all(PASSWORD not in arg for argv in fake.argvs() for arg in argv)
    # (no_log would mask it in the result anyway: the argv check above is the one that counts)
    assert PASSWORD not in json.dumps(result)
    # where it does go: stdin of the one write that sets it, and ETCDCTL_PASSWORD of the login check
    assert [data for argv, data in fake.stdin if data is not None] == [PASSWORD]
    assert [" ".join(argv[1:]) for argv, env in fake.calls if env.get("ETCDCTL_PASSWORD") == PASSWORD] == [
        "user get root -w json"]
