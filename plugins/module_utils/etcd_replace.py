# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""replace_member's decision: from what each member showed (etcd_node_info) and, once a healthy member was found,
the cluster as that member lists it (etcd_member_info), which member makes the membership changes, whether the
node is healthy (nothing to do), a started learner to promote (resume) or to replace, what each step will be,
and every refusal with its cause and its fix. A pure function, no I/O: the unit tests drive it over a table of
cases (tests/unit/plugins/module_utils/test_etcd_replace.py).
"""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import fix_hints
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_marks import wal_inside

# the states: healthy (started, voting, answering: nothing to do), resume (an earlier run added it and it runs as a
# learner: start it if stopped and promote it), replace (remove its entry if any, add it again, join it)
STATES = ("healthy", "resume", "replace")


def _urls(value):
    return [url.strip() for url in (value or "").split(",") if url.strip()]


def _member(m):
    """One member of the play as its env file describes it (the inventory's view where it is silent or unread)."""
    node = m.get("node") or {}
    env = node.get("env") or {}
    inventory = m.get("inventory") or {}
    probe = node.get("probe") or {}
    reachable = not m.get("unreachable")
    read = reachable and not m.get("error")
    return dict(
        host=m["host"],
        reachable=reachable,
        read=read,
        read_error=(m.get("error") or "").strip() if reachable else "",
        name=env.get("ETCD_NAME") or inventory.get("name") or m["host"],
        peer_urls=_urls(env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS")) or list(inventory.get("peer_urls") or []),
        endpoint=node.get("endpoint") or (_urls(env.get("ETCD_ADVERTISE_CLIENT_URLS")) or ["http://127.0.0.1:2379"])[0],
        data_dir=node.get("data_dir") or inventory.get("data_dir") or "",
        env_exists=bool(node.get("env_exists")),
        healthy=read and bool(probe.get("quorate")),
        error=(probe.get("error") or "").strip() if read else (m.get("error") or "").strip(),
        cluster_id=(probe.get("status") or {}).get("cluster_id") or 0,
        data=node.get("data") or {},
        # a WAL dir inside the data dir moves aside with it, and etcd makes it again inside the new one
        wal={} if wal_inside((node.get("wal") or {}).get("dir"), node.get("data_dir")) else node.get("wal") or {},
        unit_user=(node.get("unit") or {}).get("user") or "root",
        address_given=bool(inventory.get("address_given")),
    )


def _health_text(m):
    if not m["reachable"]:
        return "unreachable"
    if m["healthy"]:
        return "healthy"
    return "unhealthy" + (": " + m["error"] if m["error"] else "")


def _no_helper(node, members):
    named = "; ".join("%s: %s" % (m["host"], _health_text(m)) for m in members)
    hints = fix_hints([m["error"] for m in members])
    if hints:
        fix = "Nothing was changed. Fix: " + " ".join(hints)
    else:
        fix = ("The cluster has lost quorum, and a member can only be replaced through a cluster that has it. Nothing "
               "was changed. Fix: bring the other members back (systemctl start etcd on them); if quorum is lost for "
               "good, rebuild the cluster from a snapshot with disaster_recovery.yml.")
    return "No member of group etcd other than %s answers healthy (%s). %s" % (node, named, fix)


def _entry(members, by_name, urls):
    """The cluster's entry of the member: by name, else by its first peer URL (a learner that never started)."""
    by_url = [e for e in members if urls and urls[0] in (e.get("peer_urls") or [])]
    return (by_name + by_url + [{}])[0]


def _target_urls(target, by_name):
    """The peer URLs to add the member with: what the node says, unless it cannot say (unreachable, no address in
    the inventory) and the cluster knows it by name."""
    if target["read"] or target["address_given"] or not by_name:
        return target["peer_urls"]
    return list(by_name[0].get("peer_urls") or [])


def _state(entry, reachable, force):
    if force or not entry.get("name"):
        return "replace"
    if entry.get("quorate") and not entry.get("is_learner"):
        return "healthy"
    if entry.get("is_learner") and reachable:
        return "resume"
    return "replace"


def _refusals(node, target, entry, cluster, state, helper, host_of):
    refusals = []
    if state != "healthy":
        # The node is stopped before its entry is removed: until then it still counts among the voters, so the
        # others must make a quorum of all of them. On an even-sized cluster that is one more than after the removal
        # (4 voters need 3; the 3 left need 2): stopping a member that still votes would cost quorum, and its
        # removal would then fail, with its data already moved aside.
        left = [e for e in cluster.get("members") or []
                if not e.get("is_learner") and e.get("id") != entry.get("id", -1)]
        voting = bool(entry) and not entry.get("is_learner")
        voters = len(left) + (1 if voting else 0)
        healthy, needed = sum(1 for e in left if e.get("quorate")), voters // 2 + 1
        if healthy < needed:
            down = [e.get("name") or e.get("id_hex", "") for e in left if not e.get("quorate")]
            while_stopped = ""
            if voting and needed > len(left) // 2 + 1:
                while_stopped = (": %s is stopped before its entry is removed, and until then the cluster has %d "
                                 "voting members, %d of them needed for quorum" % (node, voters, needed))
            first = ""
            if voting and len(down) == 1:
                first = " or replace it first (replace_member.yml -e node=%s)" % host_of.get(down[0], down[0])
            refusals.append(
                "Replacing %s needs the other voting members to keep quorum without it, but only %d of %d are healthy "
                "(%d needed%s; down: %s). Nothing was changed. Fix: bring the down members back first%s; if quorum is "
                "lost for good, use disaster_recovery.yml."
                % (node, healthy, len(left), needed, while_stopped, ", ".join(down), first))
        if target["reachable"] and not target["read"]:
            refusals.append(
                "Could not read %s: %s. Nothing was changed. Fix: the cause above (become: sudo must work there), or, "
                "when the machine is gone, make it unreachable (stop it) and run this again to change the membership "
                "alone." % (node, target["read_error"] or "failed"))
        elif target["read"] and not target["env_exists"]:
            refusals.append(
                "%s has no %s: it is not set up as a member (a rebuilt machine?). Nothing was changed. Fix: install "
                "etcd and write its env file and unit with deploy.yml, then run replace_member.yml -e node=%s again."
                % (node, cluster.get("env_file") or "env file", node))
    node_cluster = "%x" % target["cluster_id"] if target["cluster_id"] else ""
    if node_cluster and node_cluster != cluster.get("cluster_id"):
        refusals.append(
            "%s answers at %s as a member of cluster %s, not of this one (%s, read through %s): replacing it would "
            "wipe a member of another cluster. Nothing was changed. Fix: check %s's address in the inventory; if that "
            "etcd is a stray (started alone by mistake) and its data is not needed, stop it (systemctl stop etcd on "
            "%s) and run this again: its data dir is moved aside, not deleted."
            % (node, target["endpoint"], node_cluster, cluster.get("cluster_id"), helper, node, node))
    # the old data is moved aside by renaming the data dir, which a mount point refuses (EBUSY), after etcd stopped
    if state == "replace" and target["read"] and target["data"].get("initialised") and target["data"].get("mountpoint"):
        dd = target["data_dir"]
        refusals.append(
            "%s: the data dir %s is a mount point and holds data; the old data is moved aside by renaming the data "
            "dir, which a mount point does not allow. Nothing was changed. Fix: with etcd stopped on %s, move its "
            "member dir aside inside the mount yourself (mv %s/member %s/member.old), then run replace_member.yml "
            "-e node=%s again." % (node, dd, node, dd, dd, node))
    refusals.extend(_wal_refusals(node, target, state))
    return refusals


def _wal_refusals(node, target, state):
    """A separate WAL dir (ETCD_WAL_DIR): the old WAL is moved aside by renaming the dir, and the new member's etcd
    makes its WAL dir by creating <WAL dir>.tmp beside it and renaming that into place (removing an empty dir that is
    there), as the user the unit runs it as: a mount point allows neither, and that user must be able to write the
    parent. Without the old WAL moved aside, etcd would start as the removed member and exit."""
    wal = target["wal"]
    wal_dir = wal.get("dir") or ""
    if state != "replace" or not target["read"] or not wal_dir:
        return []
    if wal.get("mountpoint"):
        return ["%s: the WAL dir %s (ETCD_WAL_DIR) is a mount point; the old WAL is moved aside by renaming the dir, "
                "and etcd makes a new member's WAL dir beside it (%s.tmp) and renames that into place: a mount point "
                "allows neither. Nothing was changed. Fix: with etcd stopped on %s, give the WAL a dir one level down "
                "(install -d -o %s -m 0700 %s/wal, move the *.wal files into it, set ETCD_WAL_DIR=%s/wal in the env "
                "file), then run replace_member.yml -e node=%s again." % (
                    node, wal_dir, wal_dir, node, target["unit_user"], wal_dir, wal_dir, node)]
    if not wal.get("parent_writable"):
        parent = wal_dir.rsplit("/", 1)[0] or "/"
        return ["%s: etcd makes a new member's WAL dir %s (ETCD_WAL_DIR) by creating %s.tmp beside it and renaming "
                "that into place, as the user the unit runs it as (%s), who cannot write %s (%s): the replaced member "
                "would fail to start after its old entry was removed. Nothing was changed. Fix: let %s write there "
                "(chown %s %s), or give the WAL a dir of %s's own (install -d -o %s -m 0700 %s/etcd-wal; with etcd "
                "stopped, move %s there and set ETCD_WAL_DIR=%s/etcd-wal/%s), then run replace_member.yml -e node=%s "
                "again." % (node, wal_dir, wal_dir, target["unit_user"], parent, wal.get("parent") or "unreadable",
                            target["unit_user"], target["unit_user"], parent, target["unit_user"], target["unit_user"],
                            parent, wal_dir, parent, wal_dir.rsplit("/", 1)[-1], node)]
    return []


def move_aside(target):
    """The member's dirs that hold data, to move aside: the data dir (a member dir in it) and a separate WAL dir (WAL
    files in it). A dir an interrupted run moved aside already holds none."""
    out = [target["data_dir"]] if target["data"].get("initialised") else []
    if target["wal"].get("dir") and target["wal"].get("holds_wal"):
        out.append(target["wal"]["dir"])
    return out


def _steps(node, target, entry, urls, state, helper, settings):
    dd, reachable, learner = target["data_dir"], target["read"], bool(settings.get("learner"))
    steps = []
    if state == "replace" and reachable:
        steps.append("stop etcd on " + node)
        for path in move_aside(target):
            steps.append("move %s aside to %s.%s" % (path, path, settings.get("stamp", "")))
        steps.append("create an empty %s (0700)" % dd)
    if state == "replace" and entry:
        steps.append("remove member %s (%s)" % (entry.get("id_hex", ""), ",".join(entry.get("peer_urls") or [])))
    if state == "replace":
        steps.append("add %s (%s)%s through %s"
                     % (target["name"], ",".join(urls), " as a learner" if learner else "", helper))
    if state == "replace" and reachable:
        steps.append("write ETCD_INITIAL_CLUSTER and ETCD_INITIAL_CLUSTER_STATE=existing into %s (backup kept)"
                     % settings.get("env_file", "the env file"))
        steps.append("start etcd on %s and wait until it serves%s" % (
            node, " (it makes its WAL dir %s)" % target["wal"]["dir"] if target["wal"].get("dir") else ""))
    if state == "resume":
        steps.append("start etcd on %s if stopped" % node)
    if reachable and state != "healthy" and (learner or state == "resume"):
        steps.append("promote it once it has caught up with the leader")
    return steps


def replace_plan(members, node, cluster=None, settings=None):
    """The decision of replace_member.yml.

    `members`: the play's hosts in inventory order, each dict(host, unreachable, error, inventory, node):
    `unreachable`/`error` from the etcd_node_info task (unreachable over SSH, or its failure message), `inventory`
    dict(name, peer_urls, data_dir, address_given) the inventory's view (used where the env file is silent or
    was not read), `node` the etcd_node_info result. `cluster`: etcd_member_info through the helper (None before
    it was read: then only the helper is chosen). `settings`: force, learner, stamp, env_file.

    Returns dict(helper, hosts, state, target, peer_urls, endpoint, entry, reachable, move_aside, steps, refusals);
    `hosts` is each member's view by host (name, endpoint, data_dir, peer_urls, healthy, health); `move_aside` the
    node's dirs that hold data (its data dir, a separate WAL dir), moved aside when it is replaced. `state` is ''
    until the cluster is given, or when no member can make the changes (then the refusal says so).
    """
    settings = settings or {}
    seen = [_member(m) for m in members]
    hosts = {m["host"]: dict(name=m["name"], endpoint=m["endpoint"], data_dir=m["data_dir"], peer_urls=m["peer_urls"],
                             reachable=m["reachable"], healthy=m["healthy"], health=_health_text(m))
             for m in seen}
    target = next((m for m in seen if m["host"] == node), None)
    if target is None:
        raise ValueError("node %s is not one of the members given" % node)
    helper = next((m["host"] for m in seen if m["host"] != node and m["healthy"]), "")
    result = dict(helper=helper, hosts=hosts, state="", target=target["name"], peer_urls=target["peer_urls"],
                  endpoint=target["endpoint"], entry={}, reachable=target["reachable"],
                  move_aside=move_aside(target) if target["read"] else [], steps=[], refusals=[])
    if not helper:
        result["refusals"] = [_no_helper(node, seen)]
        return result
    if cluster is None:
        return result
    cluster = dict(cluster, env_file=settings.get("env_file"))
    listed = cluster.get("members") or []
    by_name = [e for e in listed if e.get("name") == target["name"]]
    urls = _target_urls(target, by_name)
    entry = _entry(listed, by_name, urls)
    if not target["reachable"] and entry.get("client_urls"):
        result["endpoint"] = entry["client_urls"][0]  # what the cluster knows it by: its env file was not read
    state = _state(entry, target["reachable"], bool(settings.get("force")))
    result.update(state=state, peer_urls=urls, entry=entry,
                  steps=_steps(node, target, entry, urls, state, helper, settings),
                  refusals=_refusals(node, target, entry, cluster, state, helper,
                                     {m["name"]: m["host"] for m in seen}))
    return result
