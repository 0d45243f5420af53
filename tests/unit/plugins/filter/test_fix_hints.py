from ansible_collections.etcd_ops.etcd.plugins.filter.fix_hints import fix_hints

TLS = "context deadline exceeded (TLS handshake failed: unable to get local issuer certificate)"
NO_USER = "etcdserver: user name is empty"


def test_each_fix_once_in_the_order_of_the_errors():
    hints = fix_hints([NO_USER, TLS, NO_USER, "", None, "connection refused"])
    assert len(hints) == 2
    assert hints[0].startswith("etcd authentication is on") and "TLS files do not match" in hints[1]


def test_a_string_and_nothing():
    assert fix_hints(TLS) == fix_hints([TLS])
    assert fix_hints([]) == [] and fix_hints(None) == [] and fix_hints(["etcdserver: unhealthy cluster"]) == []
