"""Every role's defaults are documented in its meta/argument_specs.yml and README, and every option
with a default in the spec has the same default in defaults/main.yml (as prometheus.prometheus checks)."""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
NO_DEFAULT = {"node"}
PUBLIC = sorted(p for p in ROLES.iterdir() if (p / "defaults" / "main.yml").exists() and not p.name.startswith("_"))


@pytest.mark.parametrize("role", PUBLIC, ids=lambda p: p.name)
def test_defaults_match_argument_specs(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    entries = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    # every entry point's options (verify_backup's `list` too): each variable of defaults/main.yml is one of them
    options = {name: spec for entry in entries.values() for name, spec in entry["options"].items()}
    # replace_member's `node` has no default by design (the role's preflight says how to set it)
    optional = [name for name in options if name not in NO_DEFAULT]
    assert sorted(defaults) == sorted(optional), "defaults/main.yml and meta/argument_specs.yml list other variables"
    for entry, spec_of in entries.items():
        for name, spec in spec_of["options"].items():
            if "default" in spec:
                assert spec["default"] == defaults[name], f"{entry}: {name}: its default differs from defaults/main.yml"


@pytest.mark.parametrize("role", PUBLIC, ids=lambda p: p.name)
def test_readme_documents_every_variable(role):
    readme = (role / "README.md").read_text()
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    missing = [name for name in defaults if f"`{name}`" not in readme]
    assert not missing, f"{role.name}/README.md does not document {missing}"


def test_there_are_roles():
    assert PUBLIC
