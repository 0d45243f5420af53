"""The collection as a user gets it: its tarball, installed with ansible-galaxy into an empty path with the
dependencies its own metadata declares, its docs (ansible-doc, an antsibull-docs site) and an execution
environment's build context (ansible-builder create), with no network.

Each command runs outside this checkout (its ansible.cfg and .collections link would hide what the tarball holds),
with only the install path as collections path.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import ansible_collections
import pytest
import yaml
from packaging.specifiers import SpecifierSet

sys.path.insert(0, str(Path(__file__).parent))
import artifacts

TOP = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((TOP / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
# the `ansible` package's collections (tests/requirements.txt), the dependencies' stand-in for a Galaxy server
PACKAGE_ROOT = Path(next(iter(ansible_collections.__path__))).parent
MODULES = sorted(p.stem for p in (TOP / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.name for p in (TOP / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def run(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600)
    if check:
        assert proc.returncode == 0, (f"{' '.join(args)}: rc {proc.returncode}\n"
                                      f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("package")


def isolated_env(collections: Path) -> dict[str, str]:
    """A user's environment with only `collections` to find collections in (not the checkout, not site-packages)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_", "PYTEST_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(collections.parent / "ansible-home"))
    return env


@pytest.fixture(scope="module")
def tarball(work) -> Path:
    out = work / "dist"
    run(["ansible-galaxy", "collection", "build", "--output-path", str(out), str(TOP)], work,
        isolated_env(work / "none"))
    return next(out.glob(f"{GALAXY['namespace']}-{GALAXY['name']}-*.tar.gz"))


@pytest.fixture(scope="module")
def deps(work) -> list[Path]:
    return artifacts.dependencies(PACKAGE_ROOT, sorted(GALAXY["dependencies"]), work / "deps")


@pytest.fixture(scope="module")
def installed(work, tarball, deps) -> Path:
    """The tarball and its dependencies installed offline into an empty path; that path."""
    path = work / "collections"
    proc = run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(path), str(tarball), *map(str, deps)],
               work, isolated_env(path))
    assert f"{FQCN}:{GALAXY['version']} was installed successfully" in proc.stdout
    return path


def manifest(tarball: Path) -> dict:
    with tarfile.open(tarball) as tar:
        return json.load(tar.extractfile("MANIFEST.json"))["collection_info"]


def test_the_tarball_carries_the_declared_dependencies(tarball):
    """MANIFEST.json declares the collections the roles use; the Python and system packages ship with it."""
    info = manifest(tarball)
    assert info["dependencies"] == GALAXY["dependencies"]
    used = set()
    for path in [*(TOP / "roles").rglob("*.yml"), *(TOP / "playbooks").glob("*.yml")]:
        used |= set(re.findall(r"\b((?:community|amazon|ansible)\.[a-z_]+)\.[a-z0-9_]+\b", path.read_text()))
    used -= {"ansible.builtin"}
    assert used == set(info["dependencies"]), f"the roles use {sorted(used)}; galaxy.yml: {info['dependencies']}"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "bindep.txt", "meta/runtime.yml"} <= names
    assert not [n for n in names if n.startswith(("tests/", "extensions/", ".collections"))]
    ee = yaml.safe_load((TOP / "meta" / "execution-environment.yml").read_text())
    assert ee["version"] == 3 and ee["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "bindep.txt"}


def test_without_its_dependencies_the_install_names_them(work, tarball, deps):
    """Offline, with a dependency missing, ansible-galaxy refuses and names it with its range (it stops at the first
    it cannot satisfy: each is left out in turn)."""
    for missing, spec in GALAXY["dependencies"].items():
        given = [str(d) for d in deps if not d.name.startswith(missing.replace(".", "-") + "-")]
        assert len(given) == len(deps) - 1
        path = work / f"without-{missing}"
        proc = run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(path), str(tarball), *given],
                   work, isolated_env(path), check=False)
        assert proc.returncode != 0
        text = " ".join((proc.stdout + proc.stderr).split())
        assert f"{missing}:{spec} (dependency of {FQCN}:{GALAXY['version']})" in text, text[-2000:]
        assert not (path / "ansible_collections" / "etcd_ops").exists()


def test_a_dependency_older_than_its_range_is_refused(work, tarball):
    """The range in the tarball's metadata is enforced: an amazon.aws of the major release below it is refused."""
    spec = GALAXY["dependencies"]["amazon.aws"]
    floor = int(re.match(r">=(\d+)", spec).group(1))
    old = f"{floor - 1}.0.0"
    assert old not in SpecifierSet(spec)
    out = work / "old"
    out.mkdir()
    crypto = artifacts.pack(PACKAGE_ROOT / "ansible_collections/community/crypto", out)
    aws = artifacts.pack(PACKAGE_ROOT / "ansible_collections/amazon/aws", out, version=old)
    path = work / "old-install"
    proc = run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(path), str(tarball), str(crypto),
                str(aws)], work, isolated_env(path), check=False)
    assert proc.returncode != 0
    assert f"amazon.aws:{spec}" in " ".join((proc.stdout + proc.stderr).split())


def test_the_dependencies_resolve_from_the_tarball(work, installed):
    """Every declared dependency is installed beside it, at a version in its range, and the files are intact."""
    env = isolated_env(installed)
    listed = run(["ansible-galaxy", "collection", "list", "--format", "json"], work, env)
    found = {}
    for collections in json.loads(listed.stdout).values():
        found.update({name: c["version"] for name, c in collections.items()})
    assert found[FQCN] == GALAXY["version"]
    for name, spec in GALAXY["dependencies"].items():
        assert name in found and found[name] in SpecifierSet(spec), (name, found)
    run(["ansible-galaxy", "collection", "verify", "--offline", FQCN], work, env)


def test_ansible_doc_renders_every_module_from_the_install(work, installed):
    """Each module's documentation, examples and return values, read from the installed collection."""
    names = [f"{FQCN}.{m}" for m in MODULES]
    docs = json.loads(run(["ansible-doc", "--json", "-t", "module", *names], work, isolated_env(installed)).stdout)
    assert sorted(docs) == sorted(names)
    for name, doc in docs.items():
        assert doc["doc"]["filename"].startswith(str(installed)), name
        assert doc["doc"]["short_description"] and doc["examples"] and doc["return"], name
    text = run(["ansible-doc", *names], work, isolated_env(installed)).stdout  # as text too, as a user reads it
    pages = re.split(r"^> MODULE ", text, flags=re.M)[1:]
    assert [page.split()[0].strip("*") for page in pages] == names
    assert all("EXAMPLES:" in page and "RETURN VALUES:" in page for page in pages)


def test_ansible_doc_renders_every_role_entry_point_from_the_install(work, installed):
    env = isolated_env(installed)
    listed = json.loads(run(["ansible-doc", "-t", "role", "-l", "--json", FQCN], work, env).stdout)
    names = [f"{FQCN}.{r}" for r in ROLES]
    assert sorted(listed) == names
    docs = json.loads(run(["ansible-doc", "-t", "role", "--json", *names], work, env).stdout)
    text = run(["ansible-doc", "-t", "role", *names], work, env).stdout
    pages = {page.split()[0].strip("*"): page for page in re.split(r"^> ROLE: ", text, flags=re.M)[1:]}
    assert sorted(pages) == names
    for role in ROLES:
        specs = yaml.safe_load((TOP / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        points = docs[f"{FQCN}.{role}"]["entry_points"]
        assert sorted(points) == sorted(specs), role
        for name, point in points.items():
            assert point["short_description"] and point.get("description"), (role, name)
        page = pages[f"{FQCN}.{role}"]
        # bold names: *name* with ANSIBLE_NOCOLOR, escape codes without
        assert all(re.search(rf"ENTRY POINT: \W*{name}\W", page) for name in specs), role


# Labels of docs.ansible.com that antsibull-docs' pages link to; without its inventory (no network here) Sphinx
# cannot resolve them. Every other warning fails the build.
ANSIBLE_DOCS_LABELS = re.compile(r"undefined label: '(common_return_values|action_plugins|"
                                 r"ansible_configuration_settings|ansible_collections\.ansible\.builtin\.\w+)'")


def test_the_docs_site_builds_without_warnings(work, installed):
    """antsibull-docs lints the collection's docs, writes its pages, and Sphinx builds them into HTML (which checks
    their markup: the lint's rstcheck of the same pages is left out)."""
    env = isolated_env(installed)
    coll = installed / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    lint = run(["antsibull-docs", "lint-collection-docs", "--plugin-docs", "--skip-rstcheck", str(coll)], work, env)
    assert not lint.stdout.strip() and not lint.stderr.strip(), lint.stdout + lint.stderr
    site = work / "site"
    site.mkdir()
    run(["antsibull-docs", "sphinx-init", "--use-current", "--dest-dir", str(site), FQCN], work, env)
    # offline: no inventories of other sites to fetch
    conf = site / "conf.py"
    conf.write_text(re.sub(r"intersphinx_mapping = \{.*?\n\}", "intersphinx_mapping = {}", conf.read_text(),
                           flags=re.S))
    rst = site / "rst"
    rst.mkdir(mode=0o755, exist_ok=True)
    os.chmod(rst, 0o755)
    pages = run(["antsibull-docs", "--config-file", "antsibull-docs.cfg", "collection", "--use-current",
                 "--dest-dir", "rst", FQCN], site, env)
    assert "warn" not in (pages.stdout + pages.stderr).lower(), pages.stdout + pages.stderr
    written = {p.name for p in (rst / "collections" / GALAXY["namespace"] / GALAXY["name"]).glob("*.rst")}
    assert {f"{m}_module.rst" for m in MODULES} <= written
    assert {f"{r}_role.rst" for r in ROLES} <= written
    html = run(["sphinx-build", "-M", "html", "rst", "build", "-c", ".", "--keep-going", "-j", "2"], site, env)
    warnings = [line for line in html.stderr.splitlines() if "WARNING" in line]
    others = [line for line in warnings if not ANSIBLE_DOCS_LABELS.search(line)]
    assert not others, "\n".join(others)
    assert (site / "build" / "html" / "collections" / GALAXY["namespace"] / GALAXY["name"] / "index.html").exists()


def test_ansible_builder_creates_an_ee_build_context(work, tarball, deps):
    """docs/ee's EE definition gives a build context; its galaxy and introspection stages, run here, find the
    collection's dependencies: the collections from its metadata, the Python and system packages from its
    meta/execution-environment.yml."""
    ee = work / "ee"
    shutil.copytree(TOP / "docs" / "ee", ee)
    shutil.copy(tarball, ee)
    run(["ansible-builder", "create", "--file", "execution-environment.yml", "--context", "context"], ee,
        os.environ.copy())
    context = ee / "context"
    build = context / "_build"
    assert (context / "Dockerfile").exists() or (context / "Containerfile").exists()
    containerfile = next(p for p in (context / "Dockerfile", context / "Containerfile") if p.exists()).read_text()
    assert "ansible-galaxy collection install" in containerfile and "introspect" in containerfile
    assert (build / "collections" / tarball.name).exists()
    # the galaxy stage (WORKDIR /build): the requirements file, its dependencies offline from the artifacts
    path = work / "ee-collections"
    env = isolated_env(path)
    run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(path), *map(str, deps)], work, env)
    run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(path), "-r", "requirements.yml"], build, env)
    assert (path / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"] / "MANIFEST.json").exists()
    # the builder stage: the introspection script the build runs, over what the galaxy stage installed
    pip_out, bindep_out = work / "ee-requirements.txt", work / "ee-bindep.txt"
    run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect", f"--write-pip={pip_out}",
         f"--write-bindep={bindep_out}", str(path)], work, os.environ.copy())
    python = pip_out.read_text()
    system = bindep_out.read_text()
    for package in ("boto3", "botocore", "cryptography"):
        assert re.search(rf"^{package}\b.*# from collection {FQCN}", python, re.M), python
    for package in ("zstd", "age"):
        assert re.search(rf"^{package} \[.*# from collection {FQCN}", system, re.M), system


def test_bindep_reads_the_system_packages():
    """bindep parses bindep.txt and names zstd and age for this (dpkg) platform."""
    proc = subprocess.run(["bindep", "--file", str(TOP / "bindep.txt"), "--list_all", "newline"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == {"zstd", "age"}
