"""deploy.yml's decisions over a table of cases: what each member showed (etcd_node_info and its facts), what the
inventory asks, and what the plan must be. The default, deploy_refusals and tls scenarios prove the same rows end to
end on the lab."""

from __future__ import annotations

import pytest

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_deploy import deploy_plan, tls_need

LINK = "/etc/systemd/system/etcd.service"
UNIT = "/data/etcd.service"
SETTINGS = dict(env_file="/data/etcd.env", tls=False, ports=[2379, 2380], unit_link=LINK, pki_dir="/inv/etcd-pki",
                auth=dict(enabled=False), extra_env_keys=[], managed_env=["ETCD_NAME", "ETCD_DATA_DIR"])
IC = "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380,node3=http://10.0.0.3:2380"


def env(i, token="etcd-cluster", ic=IC, state="new", scheme="http", name=None):
    return dict(ETCD_NAME=name or "node%d" % i, ETCD_DATA_DIR="/data/etcd.data", ETCD_INITIAL_CLUSTER=ic,
                ETCD_INITIAL_CLUSTER_TOKEN=token, ETCD_INITIAL_CLUSTER_STATE=state,
                ETCD_INITIAL_ADVERTISE_PEER_URLS="%s://10.0.0.%d:2380" % (scheme, i))


def node(i, data=False, active=False, env_file=None, listeners=(), link=None, ca_pem=""):
    """What etcd_node_info returns on member i: bare by default; data=True holds an initialised data dir."""
    paths = {LINK: dict(exists=False, isdir=False, islnk=False, target="", resolved="")}
    if link == "ours":
        paths[LINK] = dict(exists=True, isdir=False, islnk=True, target=UNIT, resolved=UNIT)
    elif link:
        paths[LINK] = dict(exists=True, isdir=False, islnk=link != "file", target="" if link == "file" else link,
                           resolved="" if link == "file" else link)
    return dict(env_exists=env_file is not None, env=env_file or {},
                unit=dict(active_state="active" if active else "inactive"),
                data=dict(initialised=data), listeners=list(listeners), paths=paths,
                certificates={"/data/pki/ca.crt": dict(path="/data/pki/ca.crt", pem=ca_pem, error="")})


def member(i, n=None, address=None, facts=None, given=None, tls_raw=None):
    address = address or "10.0.0.%d" % i
    return dict(host="node%d" % i, ansible_host="10.0.0.%d" % i, user="admin", become_method="sudo",
                node=n if n is not None else node(i),
                facts=facts or dict(os_family="Debian", service_mgr="systemd", distribution="Debian",
                                    addresses=["10.0.0.%d" % i, "127.0.0.1"]),
                address=address, peer_url="http://%s:2380" % address, client_url="http://%s:2379" % address,
                unit_file=UNIT, given=dict(given or {}),
                defaults=dict(name="node%d" % i, data_dir="/data/etcd.data", token="etcd-cluster"),
                tls=dict(raw=dict(tls_raw or {}), src={k[:-4]: "/ctl/" + v for k, v in (tls_raw or {}).items() if v},
                         member_ca="/data/pki/ca.crt"))


def plan(*members, read=None, **settings):
    return deploy_plan(list(members), dict(SETTINGS, **settings), read=read)


def bare():
    return [member(1), member(2), member(3)]


def running(**kw):
    return [member(i, node(i, data=True, active=True, env_file=env(i, **kw), link="ours")) for i in (1, 2, 3)]


def test_bare_hosts_bootstrap_a_new_cluster():
    got = plan(*bare())
    assert got["refusals"] == [] and got["initial_cluster"] == IC and got["held"] == []
    assert got["hosts"]["node2"] == dict(name="node2", data_dir="/data/etcd.data", token="etcd-cluster", wal_dir="",
                                         keep=False, active=False, initialized=False, unit_linked=False,
                                         same_bootstrap=False, ca_src="/inv/etcd-pki/etcd-cluster/ca.crt",
                                         controller_ca=False)


def test_a_running_cluster_keeps_its_env_files_and_its_bootstrap():
    got = plan(*running(token="etcd-cluster-20261201T000000Z"))
    assert got["refusals"] == [] and got["held"] == [] and got["running_elsewhere"] == []
    me = got["hosts"]["node1"]
    assert me["keep"] and me["initialized"] and me["active"] and me["unit_linked"]
    assert me["token"] == "etcd-cluster-20261201T000000Z" and me["same_bootstrap"] is True
    # the CA dir is named by the cluster, without the recovery's UTC time
    assert me["ca_src"] == "/inv/etcd-pki/etcd-cluster/ca.crt"


@pytest.mark.parametrize("auth, why", [
    (dict(enabled=True, user="admin", password="x"), "etcd_user is admin, not root"),
    (dict(enabled=True, user="", password=""), "etcd_password is empty"),
    (dict(enabled=True, user="root", password="a b"),
     "etcd_password holds a blank, and etcdctl reads a password up to the first blank"),
])
def test_auth_without_a_usable_root_password(auth, why):
    got = plan(*bare(), auth=auth)
    assert got["refusals"] == [
        "etcd_deploy_auth=true turns etcd authentication on with the user root, which needs a password: %s. Nothing "
        "was changed on any member. Fix: set etcd_password (no blanks) in a vaulted vars file, and etcd_user to root "
        "or leave it empty." % why]


def test_auth_with_a_password_passes():
    assert plan(*bare(), auth=dict(enabled=True, user="", password="s3cret"))["refusals"] == []


@pytest.mark.parametrize("keys", [["ETCD_NAME"], ["FOO"], ["etcd_snapshot_count"]])
def test_extra_env_that_deploy_writes_or_that_is_no_etcd_setting(keys):
    got = plan(*bare(), extra_env_keys=["ETCD_QUOTA_BACKEND_BYTES"] + keys)
    assert got["refusals"] == [
        "etcd_extra_env may only add ETCD_* settings that deploy does not write itself; got ETCD_QUOTA_BACKEND_BYTES, "
        "%s. Fix: use the role variables for ETCD_NAME, ETCD_DATA_DIR and ETCD_UPPER_CASE names for the rest."
        % keys[0]]


def test_unreachable_members_are_named_together_and_nothing_else_is_judged():
    members = bare()
    members[1]["node"] = dict(unreachable=True, msg="Task failed: Failed to connect to the host via ssh: timeout")
    members[2]["node"] = dict(unreachable=True, msg="No route to host")
    members[0]["facts"] = dict(os_family="RedHat")  # not looked at while a member is unreachable
    got = plan(*members)
    assert got["hosts"] == {} and got["refusals"] == [
        "node2 (10.0.0.2) is unreachable: Failed to connect to the host via ssh: timeout\n"
        "node3 (10.0.0.3) is unreachable: No route to host\n"
        "Nothing was changed on any member. Fix: check the host's address (ansible_host), the SSH user (ansible_user) "
        "and key, and that sshd runs there; a member lost for good is replaced with replace_member.yml."]


def test_a_member_where_become_fails_and_one_whose_read_fails():
    members = bare()
    members[1]["node"] = dict(failed=True, msg="Task failed: Missing sudo password")
    members[1]["user"] = "nosudo"
    members[2]["node"] = dict(failed=True, msg="Could not read this member's env file /data/etcd.env: Is a directory",
                              invocation=dict(module_args={}))
    got = plan(*members)
    assert got["refusals"] == [
        "node2: nosudo cannot become root with sudo: Missing sudo password. Nothing was changed on any member. Fix: "
        "give nosudo sudo rights on the host (passwordless, or run ansible-playbook with --ask-become-pass).",
        "node3: the member could not be read: Could not read this member's env file /data/etcd.env: Is a directory. "
        "Nothing was changed on any member. Fix: the cause above, then run deploy again."]


def test_another_os_and_an_address_the_host_does_not_have():
    members = bare()
    members[0]["facts"] = dict(os_family="RedHat", distribution="Rocky", service_mgr="systemd",
                               addresses=["10.0.0.1"])
    members[1]["address"] = "10.9.9.9"
    got = plan(*members)
    assert got["refusals"] == [
        "node1 runs Rocky with systemd; deploy supports Debian-family hosts under systemd. Fix: deploy etcd there by "
        "other means and use the collection's other operations.",
        "node2: etcd_address '10.9.9.9' is not an address of this host (it has 10.0.0.2, 127.0.0.1). Nothing was "
        "changed on any member. Fix: set etcd_address for node2 in the inventory to the address the other members "
        "reach it by."]


def test_no_address_at_all():
    members = bare()
    members[2]["address"] = ""
    assert plan(*members)["refusals"][0].startswith("node3: etcd_address '' is not an address of this host")


def test_the_inventory_renames_a_running_member_and_moves_its_data():
    members = running()
    members[0]["given"] = dict(name="etcd-a", data_dir="/srv/etcd")
    got = plan(*members)
    assert got["refusals"] == [
        "node1 runs etcd with ETCD_NAME=node1 in /data/etcd.env, but etcd_name is etcd-a; "
        "ETCD_DATA_DIR=/data/etcd.data in /data/etcd.env, but etcd_data_dir is /srv/etcd. Deploy does not move a "
        "member's data, rename it or change its token: with the new value etcd would start an empty cluster, or "
        "ignore it. Nothing was changed on any member. Fix: leave etcd_name, etcd_data_dir unset for node1 (the env "
        "file's values are kept), or set them to the env file's."]


def test_a_stopped_member_with_data_keeps_its_token():
    members = running()
    members[2]["node"] = node(3, data=True, env_file=env(3, token="other"))
    members[2]["given"] = dict(token="etcd-cluster")
    got = plan(*members)
    assert got["refusals"] == [
        "node3 holds etcd data with ETCD_INITIAL_CLUSTER_TOKEN=other in /data/etcd.env, but etcd_cluster_token is "
        "etcd-cluster. Deploy does not move a member's data, rename it or change its token: with the new value etcd "
        "would start an empty cluster, or ignore it. Nothing was changed on any member. Fix: leave "
        "etcd_cluster_token unset for node3 (the env file's values are kept), or set it to the env file's."]


def test_two_members_with_one_name_or_address():
    members = bare()
    members[1]["given"] = members[1]["defaults"] = dict(name="node1", data_dir="/data/etcd.data", token="etcd-cluster")
    got = plan(*members)
    assert got["refusals"] == [
        "Two members share a name or an address (names: node1, node1, node3; addresses: 10.0.0.1, 10.0.0.2, "
        "10.0.0.3). Nothing was changed on any member. Fix: give each host of group etcd its own etcd_name and "
        "etcd_address."]


NC = dict(address="0.0.0.0", port=2379, process="nc", pid=90)
UNNAMED = dict(address="10.0.0.1", port=2380, process="", pid=0)
ETCD = dict(address="10.0.0.1", port=2379, process="etcd", pid=7)


@pytest.mark.parametrize("listeners, active, refused", [
    ([NC], False, "node1: port 2379 on 0.0.0.0 is taken by nc (pid 90)."),
    ([ETCD, UNNAMED], True, ""),  # ss cannot name the owner: etcd's while etcd.service runs
    ([UNNAMED], False, "node1: port 2380 on 10.0.0.1 is taken by a process ss cannot name."),
    ([NC, UNNAMED], False, "node1: port 2379 on 0.0.0.0 is taken by nc (pid 90); port 2380 on 10.0.0.1 is taken by "
                           "a process ss cannot name."),
    ([dict(NC, port=22)], False, ""),  # not an etcd port
])
def test_another_program_on_an_etcd_port(listeners, active, refused):
    members = bare()
    members[0]["node"] = node(1, active=active, listeners=listeners)
    got = plan(*members)
    want = [refused + " Nothing was changed on any member. Fix: stop that program, or move etcd to free ports with "
                      "etcd_client_port / etcd_peer_port."] if refused else []
    assert got["refusals"] == want


@pytest.mark.parametrize("link, refused", [
    ("ours", False), (None, False), ("/usr/lib/systemd/system/etcd.service", True), ("file", True)])
def test_the_unit_name_etcd_service(link, refused):
    members = bare()
    members[1]["node"] = node(2, link=link)
    got = plan(*members)
    assert got["hosts"]["node2"]["unit_linked"] == (link is not None)
    assert got["refusals"] == ([
        "node2: /etc/systemd/system/etcd.service exists and is not a link to /data/etcd.service, so another "
        "etcd.service is installed there. Nothing was changed on any member. Fix: if that is the unit of this "
        "member, set etcd_unit_file to the file it points to; otherwise move it away and run deploy again."]
        if refused else [])


def test_tls_switched_on_under_a_running_cluster():
    got = plan(*running(), tls=True)
    assert len(got["refusals"]) == 3 and got["refusals"][0] == (
        "node1 already runs a member with http peer URLs (http://10.0.0.1:2380); etcd_deploy_tls=True would make them "
        "https. The membership keeps the old URLs, so the members would stop reaching each other. Nothing was changed "
        "on any member. Fix: deploy with etcd_deploy_tls=False; moving a running cluster to TLS takes a `member "
        "update` of every member's peer URLs with a restart of each, which deploy does not do.")
    assert plan(*running(scheme="https"), tls=False)["refusals"][2].startswith(
        "node3 already runs a member with https peer URLs (https://10.0.0.3:2380); etcd_deploy_tls=False")


def test_a_new_member_beside_a_cluster_bootstrapped_with_other_members_is_held_back():
    two = "node1=http://10.0.0.1:2380,node2=http://10.0.0.2:2380"
    members = [member(i, node(i, data=True, active=True, env_file=env(i, ic=two), link="ours")) for i in (1, 2)]
    got = plan(*members, member(3))
    assert got["refusals"] == [] and got["held"] == ["node3"] and got["running_elsewhere"] == ["node1", "node2"]
    assert got["initial_cluster"] == IC


def test_a_member_that_lost_its_data_after_the_bootstrap_is_held_back():
    members = running(state="existing")
    members[2] = member(3, node(3, env_file=env(3, state="existing"), link="ours"))  # env file, no data, stopped
    got = plan(*members)
    assert got["held"] == ["node3"] and got["running_elsewhere"] == ["node1", "node2"]
    assert got["hosts"]["node3"]["keep"] is False and got["hosts"]["node3"]["initialized"] is False


def test_a_cluster_after_its_bootstrap_holds_nobody_back():
    got = plan(*running(state="existing"))
    assert got["held"] == [] and got["running_elsewhere"] == ["node1", "node2", "node3"]


def test_rerun_on_the_cluster_it_bootstrapped():
    got = plan(*running())
    assert all(h["same_bootstrap"] for h in got["hosts"].values()) and got["running_elsewhere"] == []


CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
OTHER = "-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n"


def reader(files):
    def read(path):
        if path in files:
            return dict(path=path, text=files[path], error="")
        return dict(path=path, text="", error="No such file or directory")
    return read


def test_tls_files_given_without_etcd_deploy_tls():
    members = bare()
    members[0]["tls"]["raw"] = dict(ca_src="ca.crt", cert_src="", key_src="")
    assert plan(*members)["refusals"] == [
        "node1: etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src or etcd_deploy_tls_key_src is set, but "
        "etcd_deploy_tls is false, so they would not be used. Nothing was changed on any member. Fix: add "
        "-e etcd_deploy_tls=true, or drop the TLS files."]


def test_tls_files_given_in_part_and_members_given_different_cas():
    members = [member(i, tls_raw=dict(ca_src="ca.crt", cert_src="n%d.crt" % i, key_src="n%d.key" % i))
               for i in (1, 2)]
    members.append(member(3, tls_raw=dict(ca_src="", cert_src="n3.crt", key_src="")))
    files = {"/ctl/ca.crt": CA}
    got = plan(*members, tls=True, read=reader(files))
    assert "node3: etcd_deploy_tls_ca_src, etcd_deploy_tls_cert_src and etcd_deploy_tls_key_src go together (given: " \
           "cert_src). Nothing was changed on any member. Fix: give all three" in "\n".join(got["refusals"])
    assert ("etcd_deploy_tls_ca_src differs between the members (ca.crt, unset): the members of one cluster trust one "
            "CA. Nothing was changed on any member. Fix: give every member the same etcd_deploy_tls_ca_src (e.g. in "
            "group_vars).") in got["refusals"]
    # the two members whose files are all given are judged on their files: the certificate and key are missing
    node1 = [r for r in got["refusals"] if r.startswith("node1: ")]
    assert len(node1) == 1 and "the certificate /ctl/n1.crt cannot be read" in node1[0]
    assert node1[0].endswith("Fix: give this member a key and a certificate of the cluster's CA that names "
                             "IP:10.0.0.1 and IP:127.0.0.1 and allows serverAuth and clientAuth "
                             "(etcd_deploy_tls_cert_src, etcd_deploy_tls_key_src, etcd_deploy_tls_ca_src), or none of "
                             "the three to have deploy make them.")


@pytest.mark.parametrize("controller, member_ca, refused", [
    (CA, CA, ""),
    (CA + "\n", CA, ""),  # compared without surrounding blanks
    (CA, "", ""),  # the member has no CA yet: deploy copies the controller's
    (OTHER, CA, "is another CA"),
    (None, CA, "does not exist"),
])
def test_a_member_that_trusts_another_ca_than_the_controller_s(controller, member_ca, refused):
    members = [member(i, node(i, ca_pem=member_ca)) for i in (1, 2, 3)]
    files = {} if controller is None else {"/inv/etcd-pki/etcd-cluster/ca.crt": controller}
    got = plan(*members, tls=True, read=reader(files))
    assert got["hosts"]["node1"]["controller_ca"] == (controller is not None)
    if not refused:
        assert got["refusals"] == []
        return
    assert len(got["refusals"]) == 3 and got["refusals"][0] == (
        "node1 trusts the CA at /data/pki/ca.crt, but the controller's /inv/etcd-pki/etcd-cluster/ca.crt %s. A "
        "certificate of another CA would cut the member off from the others. Nothing was changed on any member. Fix: "
        "set etcd_deploy_pki_dir to the controller's dir that made this cluster's certificates (deploy keeps them "
        "under <dir>/etcd-cluster)." % refused)


def test_the_user_s_ca_names_its_own_fix():
    raw = dict(ca_src="ca.crt", cert_src="n.crt", key_src="n.key")
    members = [member(1, node(1, ca_pem=OTHER), tls_raw=raw)]
    got = plan(*members, tls=True, read=reader({"/ctl/ca.crt": CA}))
    assert got["hosts"]["node1"]["ca_src"] == "/ctl/ca.crt"
    assert got["refusals"][-1].endswith(
        "Fix: give etcd_deploy_tls_ca_src the CA this cluster's members trust (the file /data/pki/ca.crt on the "
        "members), and certificates it issued.")


@pytest.mark.parametrize("address, need", [
    ("10.0.0.1", ["IP:10.0.0.1", "IP:127.0.0.1"]),
    ("127.0.0.1", ["IP:127.0.0.1"]),
    ("fd00::1", ["IP:fd00::1", "IP:127.0.0.1"]),
    ("etcd1.example", ["DNS:etcd1.example", "IP:127.0.0.1"]),
])
def test_the_names_a_member_s_certificate_must_carry(address, need):
    assert tls_need(address) == need
