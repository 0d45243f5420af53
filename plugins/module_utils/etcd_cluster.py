# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to etcd_ops.etcd: not a public API, may change without notice.
"""The cluster as one picture: members, their health and status, the leader, and quorum."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_client import EtcdError, unhealthy

# Status fields copied onto each member, with their value when the member did not answer.
MEMBER_STATUS = dict(revision=0, raft_term=0, raft_index=0, db_size=0, version="", errors=())

# What an operator does about each alarm; a cluster with one still has quorum (etcd's maintenance guide).
ALARM_FIXES = dict(
    NOSPACE="the backend reached its quota (ETCD_QUOTA_BACKEND_BYTES) and etcd takes no writes: compact the "
            "history (etcdctl compact REVISION), defragment each member (etcdctl defrag), then etcdctl alarm disarm; "
            "or raise the quota (a rolling restart). Take a snapshot first: backup.yml works under NOSPACE.",
    CORRUPT="a member's data differs from the others': find it with etcdctl endpoint hashkv --cluster, replace "
            "that member with replace_member.yml, then etcdctl alarm disarm.",
)


def alarm_fix(alarms):
    """The fix for each alarm, as one text ('' without alarms)."""
    return " ".join("%s: %s" % (a, ALARM_FIXES.get(a, "see etcdctl alarm list")) for a in alarms)


def _member_list(client, endpoints):
    """(members, cluster_id, error): a cluster without quorum (3.5+) or a dead endpoint gives an error."""
    try:
        listed = client.member_list(endpoints)
        return listed["members"], listed["cluster_id"], ""
    except EtcdError as exc:
        return [], 0, (exc.stderr or exc.msg).strip()


def _not_listed(client, endpoints):
    return [], 0, ""


# etcd answers no health read of a learner ("rpc not supported for learner"), and etcdctl retries it until its
# command timeout: a learner's health is not asked.
LEARNER = "a learner: etcd serves it no health read (it is not a voting member yet)"


def _health(client, urls, skip=()):
    asked = [u for u in urls if u not in skip]
    return (client.endpoint_health(asked) if asked else []) + [unhealthy(u, LEARNER) for u in urls if u in skip]


def cluster_info(client, endpoints, expand=True, list_members=True, read_health=True):
    """Members, per-endpoint health/status, leader and quorum, as one dict.

    Without `expand` the three reads are independent and run at once: on a member without quorum the member
    list (3.5+) and the health check each wait for their whole timeout, which would otherwise add up. With it,
    the status and health reads of the listed members run at once, after the member list, and a learner's health
    is not asked (etcd refuses it, after etcdctl's whole timeout). Without `list_members` (and `expand`), only the
    endpoints' health and status are read; without `read_health`, their status alone (every endpoint counts as
    not healthy then).
    """
    client.binary("etcdctl")  # named when missing, also when every endpoint refuses and etcdctl is not run
    probe = list(endpoints)
    health_read = _health if read_health else (lambda client, urls, skip=(): [])
    if expand:
        members, cluster_id, list_error = _member_list(client, endpoints)
        learners = set()
        if members:
            probe = sorted({url for m in members for url in m["client_urls"]}) or probe
            learners = {url for m in members if m["is_learner"] for url in m["client_urls"]}
        # a member that is down costs each read its whole timeout: wait it out once, not twice
        with ThreadPoolExecutor(max_workers=2) as pool:
            status = pool.submit(client.endpoint_status, probe)
            health = pool.submit(health_read, client, probe, learners)
            statuses, healths = status.result()[0], health.result()
    else:
        with ThreadPoolExecutor(max_workers=3) as pool:
            listed = pool.submit(_member_list if list_members else _not_listed, client, endpoints)
            status = pool.submit(client.endpoint_status, probe)
            health = pool.submit(health_read, client, probe)
            (members, cluster_id, list_error), statuses, healths = listed.result(), status.result()[0], health.result()
    health = {h["endpoint"]: h for h in healths}
    by_id = {s["member_id"]: s for s in statuses}

    for member in members:
        status = by_id.get(member["id"], {})
        member["healthy"] = any(health.get(url, {}).get("health") for url in member["client_urls"])
        member["quorate"] = any(health.get(url, {}).get("quorate") for url in member["client_urls"])
        member["alarms"] = sorted({a for url in member["client_urls"] for a in health.get(url, {}).get("alarms", [])})
        for key, empty in MEMBER_STATUS.items():
            member[key] = status.get(key, empty)

    endpoints_out = []
    for url in probe:
        status = next((s for s in statuses if s["endpoint"] == url), {})
        endpoints_out.append(dict(health.get(url, unhealthy(url, "")),
                                  status=status))

    if members:
        voters = [m for m in members if not m["is_learner"]]
        n_voters, healthy_voters = len(voters), sum(1 for m in voters if m["quorate"])
    else:  # no member list (3.5+ without quorum): judge by the endpoints we were given
        n_voters = len(probe)
        healthy_voters = sum(1 for url in probe if health.get(url, {}).get("quorate"))
    needed = n_voters // 2 + 1
    # A member that lost its peers still calls itself leader until its election timeout runs out:
    # without a healthy majority there is no leader to report.
    leaders = {s["leader"] for s in statuses if s["leader"]}
    leader = {}
    if len(leaders) == 1 and healthy_voters >= needed:
        leader_id = leaders.pop()
        name = next((m["name"] for m in members if m["id"] == leader_id), "")
        leader = dict(id_hex=format(leader_id, "x"), name=name)
    for member in members:
        member["is_leader"] = bool(leader) and member["id_hex"] == leader["id_hex"]
    quorum = dict(voters=n_voters, healthy_voters=healthy_voters, needed=needed,
                  has_quorum=healthy_voters >= needed and bool(leader))
    if not cluster_id and statuses:
        cluster_id = statuses[0]["cluster_id"]
    server = next((s["version"] for s in statuses if s["version"]), "")
    versions = dict(client.versions(), server=server or None)
    alarms = sorted({a for entry in healths + statuses for a in entry.get("alarms", [])})
    return dict(cluster_id=format(cluster_id, "x"), members=members, member_list_error=list_error,
                endpoints=endpoints_out, leader=leader, quorum=quorum, versions=versions,
                alarms=alarms, alarm_fix=alarm_fix(alarms))


WAIT_FOR = ("serving", "quorate", "healthy_cluster")


def ready(info, wait_for):
    """Whether a cluster_info() answer is what a wait asks for: `serving` (every endpoint asked answered its
    status: the member runs and serves clients, a learner too), `quorate` (every endpoint asked served a quorum
    read), `healthy_cluster` (quorum, no learner, every member quorate)."""
    endpoints = info.get("endpoints") or []
    if wait_for == "serving":
        return bool(endpoints) and all((e.get("status") or {}).get("version") for e in endpoints)
    if wait_for == "quorate":
        return bool(endpoints) and all(e.get("quorate") for e in endpoints)
    if wait_for == "healthy_cluster":
        members = info.get("members") or []
        return (bool((info.get("quorum") or {}).get("has_quorum")) and bool(members)
                and not any(m.get("is_learner") for m in members) and all(m.get("quorate") for m in members))
    raise ValueError("wait_for must be one of %s, not %r" % (", ".join(WAIT_FOR), wait_for))


def parse_initial_cluster(text):
    """ETCD_INITIAL_CLUSTER ("n1=http://a:2380,n1=http://b:2380,n2=...") as [(name, peer_url)], in order.

    An entry without "=" is skipped: etcd itself refuses such a file, and this reads files only to find members.
    """
    pairs = []
    for entry in (text or "").split(","):
        name, sep, url = entry.strip().partition("=")
        if sep and name.strip() and url.strip():
            pairs.append((name.strip(), url.strip()))
    return pairs


def members_outside(initial_clusters, play_names, play_peer_urls):
    """The members that the members' env files name but the play does not hold, as [{name, peer_urls}].

    `initial_clusters`: each play member's ETCD_INITIAL_CLUSTER text; `play_names`, `play_peer_urls`: the play
    members' names and peer URLs. A member named in a file counts as in the play when its name or one of its peer
    URLs is a play member's (a machine rebuilt at a new address keeps its name; a renamed one keeps its URL).
    Sorted by name.
    """
    names, urls = set(play_names), set(play_peer_urls)
    outside = {}
    for text in initial_clusters:
        for name, url in parse_initial_cluster(text):
            if name in names or url in urls:
                continue
            peer_urls = outside.setdefault(name, [])
            if url not in peer_urls:
                peer_urls.append(url)
    return [dict(name=name, peer_urls=outside[name]) for name in sorted(outside)]


def guess_client_url(peer_url, client_url):
    """A client URL to ask a member known only by its peer URL: its host, with the scheme and port of `client_url`
    (another member's: members of one cluster share their layout)."""
    peer, like = urlsplit(peer_url), urlsplit(client_url)
    host = peer.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s" % (like.scheme or peer.scheme, host, (":%d" % like.port) if like.port else "")
