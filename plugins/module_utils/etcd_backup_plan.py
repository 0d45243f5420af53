# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""backup's decision: from what each member showed (etcd_node_info) and the store's free space, which member to
snapshot, the cluster's name in the store, each member's view, and every refusal with its cause and its fix. A
pure function, no I/O: tests/unit/plugins/module_utils/test_etcd_backup_plan.py drives it over a table of cases.
(Not shipped to the members: the scheduled job needs none of it.)
"""

from __future__ import annotations

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import fix_hints
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_cluster import alarm_fix
from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_plan import cluster_name

# a snapshot is about the size of the member's database file; a tenth more for what it grows meanwhile
ROOM = 1.1


def member_view(m):
    """One member as a preflight's etcd_node_info read it: reachable, healthy (its own health is quorate), its
    health in words, its error, endpoint, alarms, database size, cluster name and member name."""
    node = m.get("node") or {}
    env = node.get("env") or {}
    probe = node.get("probe") or {}
    reachable = not m.get("unreachable")
    read = reachable and not m.get("error")
    error = (probe.get("error") or "").strip() if read else (m.get("error") or "").strip()
    alarms = sorted(probe.get("alarms") or [])
    healthy = read and bool(probe.get("quorate"))
    if not reachable:
        health = "unreachable"
    else:
        health = "healthy" if healthy else "unhealthy" + (": " + error if error else "")
    return dict(host=m["host"], reachable=reachable, healthy=healthy, health=health, error=error,
                endpoint=node.get("endpoint") or "http://127.0.0.1:2379", alarms=alarms, alarm_fix=alarm_fix(alarms),
                db_size=int((probe.get("status") or {}).get("db_size") or 0),
                cluster_name=cluster_name(env.get("ETCD_INITIAL_CLUSTER_TOKEN") or "etcd"),
                name=env.get("ETCD_NAME") or m["host"])


def _no_source(members, chosen):
    hints = fix_hints([m["error"] for m in members])
    if chosen:
        text = "etcd_backup_member %s is not a reachable, healthy member of group etcd. " % chosen
    else:
        text = "No member of group etcd answers healthy (%s). " % "; ".join(
            "%s: %s" % (m["host"], m["health"]) for m in members)
    fix = "Nothing was changed. Fix: "
    if hints:
        fix += " ".join(hints) + " Otherwise: "
    fix += "a member answers healthy only while the cluster has quorum; bring members back, "
    if chosen:
        fix += "pick another etcd_backup_member (or leave it empty), "
    return text + fix + "or, if quorum is lost for good, restore the newest snapshot with disaster_recovery.yml."


def backup_plan(members, settings=None):
    """The decision of backup.yml.

    `members`: the play's hosts in inventory order, each dict(host, unreachable, error, node) as the etcd_node_info
    task left them. `settings`: member (etcd_backup_member, '' for the first healthy one), now (etcd_backup_now),
    store (etcd_backup_dir), store_error (why the store is not a directory this user can write, '' when it is) and
    store_free (bytes free there, None when not measured).

    Returns dict(source, healthy_hosts, hosts, cluster_name, known_cluster, alarms, alarm_fix, db_size, refusals);
    `hosts` is each member's view by host (endpoint, healthy, health, name, cluster_name). `known_cluster` is the
    cluster's name also when no member can be snapshotted (the first env file read names it; '' when none was), for
    the report and the metrics of a run that stopped.
    """
    settings = settings or {}
    seen = [member_view(m) for m in members]
    healthy = [m["host"] for m in seen if m["healthy"]]
    chosen = settings.get("member") or ""
    source = chosen or (healthy[0] if healthy else "")
    by_host = {m["host"]: m for m in seen}
    picked = by_host.get(source, {}) if source in healthy else {}
    result = dict(source=source, healthy_hosts=healthy,
                  hosts={m["host"]: dict(endpoint=m["endpoint"], healthy=m["healthy"], health=m["health"],
                                         name=m["name"], cluster_name=m["cluster_name"]) for m in seen},
                  cluster_name=picked.get("cluster_name", ""),
                  known_cluster=picked.get("cluster_name") or next(
                      (cluster_name(((m.get("node") or {}).get("env") or {})["ETCD_INITIAL_CLUSTER_TOKEN"])
                       for m in members if ((m.get("node") or {}).get("env") or {}).get("ETCD_INITIAL_CLUSTER_TOKEN")),
                      ""),
                  alarms=picked.get("alarms", []),
                  alarm_fix=picked.get("alarm_fix", ""), db_size=picked.get("db_size", 0), refusals=[])
    if not settings.get("now", True):
        return result  # the schedule alone: no member is snapshotted now
    if settings.get("store_error"):
        result["refusals"].append(
            "The backup store %s on the controller is not a directory this user can write (%s). Nothing was changed "
            "on any member. Fix: set etcd_backup_dir to a directory you can write, or fix its permissions."
            % (settings.get("store", "etcd_backup_dir"), settings["store_error"]))
        return result
    if not picked:
        result["refusals"].append(_no_source(seen, chosen))
        return result
    free = settings.get("store_free")
    free = None if free in (None, "", "None") else int(free)  # a template may hand over its text
    if free is not None and free < int(picked["db_size"] * ROOM):
        result["refusals"].append(
            "Not enough space in the store %s on the controller: %d bytes free, the database of %s is %d bytes (a "
            "snapshot is about that size). Nothing was changed. Fix: free space there, or set etcd_backup_dir to a "
            "disk with room." % (settings.get("store", "etcd_backup_dir"), free, source, picked["db_size"]))
    return result
