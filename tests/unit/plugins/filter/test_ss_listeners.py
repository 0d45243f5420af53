from ansible_collections.etcd_ops.etcd.plugins.filter.ss_listeners import ss_listeners

# Real `ss -Htlnp` output from a lab node (Debian 12): etcd on 2379/2380, sshd, and a squatter.
SS = """\
LISTEN 0      4096     172.29.90.11:2380       0.0.0.0:*    users:(("etcd",pid=812,fd=7))
LISTEN 0      4096        127.0.0.1:2379       0.0.0.0:*    users:(("etcd",pid=812,fd=9))
LISTEN 0      4096     172.29.90.11:2379       0.0.0.0:*    users:(("etcd",pid=812,fd=8))
LISTEN 0      128           0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=77,fd=3))
LISTEN 0      5                   *:2380             *:*    users:(("python3",pid=901,fd=3),("python3",pid=902,fd=3))
LISTEN 0      128              [::]:22            [::]:*    users:(("sshd",pid=77,fd=4))
"""


def test_filters_by_port_and_names_the_process():
    got = ss_listeners(SS, [2379, 2380])
    assert {"address": "172.29.90.11", "port": 2380, "process": "etcd", "pid": 812} in got
    assert {"address": "127.0.0.1", "port": 2379, "process": "etcd", "pid": 812} in got
    assert {"address": "*", "port": 2380, "process": "python3", "pid": 901} in got
    assert len(got) == 4


def test_ipv6_and_all_ports():
    got = ss_listeners(SS.splitlines())
    assert {"address": "::", "port": 22, "process": "sshd", "pid": 77} in got
    assert len(got) == 6


def test_unknown_process_and_header_line():
    text = "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0 5 0.0.0.0:2379 0.0.0.0:*\n"
    assert ss_listeners(text, [2379]) == [{"address": "0.0.0.0", "port": 2379, "process": "", "pid": 0}]


def test_empty_output():
    assert ss_listeners("", [2379]) == []
    assert ss_listeners(None) == []
