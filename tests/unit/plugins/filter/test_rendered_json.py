"""rendered_json: JSON text a template rendered, or what ansible-core before 2.19 already made of it."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.etcd_ops.etcd.plugins.filter.rendered_json import FilterModule, rendered_json


@pytest.mark.parametrize("value, want", [
    ('[{"host": "node1", "snapshots": []}]', [{"host": "node1", "snapshots": []}]),
    ('[{"ok": true, "x": null}]', [{"ok": True, "x": None}]),
    ("[]", []),
    ('{"a": 1}', {"a": 1}),
    # ansible-core 2.16 to 2.18 turned the rendered text into the value already
    ([{"host": "node1", "snapshots": []}], [{"host": "node1", "snapshots": []}]),
    ({"a": 1}, {"a": 1}),
    ([], []),
])
def test_text_or_the_value_made_of_it(value, want):
    assert rendered_json(value) == want


@pytest.mark.parametrize("value", ["[{'host': 'node1'}]", "not json", 3, None])
def test_anything_else_is_an_error_that_shows_it(value):
    with pytest.raises(AnsibleFilterError, match="rendered_json"):
        rendered_json(value)


def test_registered():
    assert FilterModule().filters()["rendered_json"] is rendered_json
